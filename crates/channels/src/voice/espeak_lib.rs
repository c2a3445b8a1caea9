//! espeak-ng's library in process: half of each `espeak-ng` run is starting
//! the program and loading the voice's data, so the hub keeps that data loaded
//! in renderer threads of its own and hands them the texts.
//!
//! `libespeak-ng.so.1` is loaded at run time (libloading), so a hub built where
//! it is missing still builds and runs: [`Renderers::speak`] then answers
//! `None` and the narration is spoken by the `espeak-ng` program, as before.
//!
//! The library keeps its state in globals and is not thread-safe, so each
//! renderer thread owns an instance of its own, loaded from a copy of the file
//! the dynamic linker finds (the linker takes a file of another name and inode
//! for another library and gives it globals of its own; one copy per thread,
//! even the first, so no two pools of a process ever share one). The copies
//! are written to a private temporary directory and deleted as soon as they
//! are mapped. Instances are never unloaded: espeak-ng starts a thread of its
//! own in each, which must not outlive its code, and a mapped copy keeps its
//! inode, so no later copy can be mistaken for it.
//!
//! Each instance is driven exactly as the `espeak-ng` program drives it for
//! `espeak-ng -v <voice> --stdout --stdin`: the default data path, synchronous
//! output, the voice by name (else by language), the program's text flags
//! (UTF-8 or 8-bit text, `[[ ]]` phoneme input, the final pause; never SSML), so
//! both give the same speech and share one cache: a fresh instance gives the
//! program's samples exactly, one that has spoken before starts from where it
//! left off (the same words, a few milliseconds apart).

// The library's C API is called through function pointers; every call is
// made by the one thread that owns its instance.
#![allow(unsafe_code)]

use libloading::Library;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_short, c_uint, c_void, CStr, CString, OsStr, OsString};
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};

/// The library as the dynamic linker names it.
pub(crate) const LIBRARY: &str = "libespeak-ng.so.1";

/// At most this many renderer threads, whatever the machine.
const MOST_THREADS: usize = 4;

// espeak-ng/espeak_ng.h and espeak-ng/speak_lib.h.
const ENS_OK: c_int = 0;
const ENOUTPUT_MODE_SYNCHRONOUS: c_int = 0x0001;
const POS_CHARACTER: c_int = 1;
const ESPEAK_EVENT_LIST_TERMINATED: c_int = 0;
const ESPEAK_EVENT_SAMPLERATE: c_int = 8;
/// The `espeak-ng` program's flags: `espeakCHARS_AUTO` (0) | `espeakPHONEMES` |
/// `espeakENDPAUSE`.
const SYNTH_FLAGS: c_uint = 0x100 | 0x1000;

/// `espeak_EVENT`.
#[repr(C)]
struct Event {
    kind: c_int,
    unique_identifier: c_uint,
    text_position: c_int,
    length: c_int,
    audio_position: c_int,
    sample: c_int,
    user_data: *mut c_void,
    /// The union `id` (an int, a pointer or 8 bytes): `number` is its first int.
    id_number: c_int,
    id_rest: c_int,
}

/// `espeak_VOICE`, to select a voice by language as the program does.
#[repr(C)]
struct VoiceSelector {
    name: *const c_char,
    languages: *const c_char,
    identifier: *const c_char,
    gender: u8,
    age: u8,
    variant: u8,
    xx1: u8,
    score: c_int,
    spare: *mut c_void,
}

type SynthCallback = unsafe extern "C" fn(*mut c_short, c_int, *mut Event) -> c_int;

/// Speech as the library produced it: 16-bit mono samples at `rate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spoken {
    pub rate: u32,
    pub samples: Vec<i16>,
}

/// Renderer threads over one library file, started at the first narration.
pub(crate) struct Renderers {
    library: OsString,
    threads: usize,
    /// Where the copies of the library are written (and deleted).
    scratch: PathBuf,
    pool: OnceLock<Option<Pool>>,
}

impl std::fmt::Debug for Renderers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let threads = self.pool.get().map(|p| p.as_ref().map_or(0, |p| p.threads));
        f.debug_struct("Renderers")
            .field("library", &self.library)
            .field("threads", &threads)
            .finish()
    }
}

struct Pool {
    jobs: mpsc::Sender<Job>,
    threads: usize,
}

struct Job {
    voice: String,
    text: String,
    reply: tokio::sync::oneshot::Sender<Result<Spoken, String>>,
}

impl Renderers {
    /// The hub's renderers: the system's library, one thread per core (at most four).
    pub(crate) fn system() -> Arc<Renderers> {
        static SYSTEM: OnceLock<Arc<Renderers>> = OnceLock::new();
        SYSTEM
            .get_or_init(|| {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                Arc::new(Renderers::at(LIBRARY, cores.clamp(1, MOST_THREADS)))
            })
            .clone()
    }

    /// Renderers over the library `library` (a name the dynamic linker looks
    /// up, or a path), `threads` of them.
    pub(crate) fn at(library: impl AsRef<OsStr>, threads: usize) -> Renderers {
        Renderers {
            library: library.as_ref().to_owned(),
            threads: threads.max(1),
            scratch: std::env::temp_dir(),
            pool: OnceLock::new(),
        }
    }

    /// The same renderers, copying the library under `scratch`.
    #[cfg(test)]
    pub(crate) fn copying_under(self, scratch: impl Into<PathBuf>) -> Renderers {
        Renderers {
            scratch: scratch.into(),
            ..self
        }
    }

    /// How many renderer threads run; `None` when the library could not be loaded.
    #[cfg(test)]
    pub(crate) async fn threads(self: &Arc<Self>) -> Option<usize> {
        self.started().await.map(|p| p.threads)
    }

    /// `text` said by `voice`; `None` when the library cannot be used, so
    /// the caller speaks it another way.
    pub(crate) async fn speak(self: &Arc<Self>, voice: &str, text: &str) -> Option<Result<Spoken, String>> {
        let pool = self.started().await?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            voice: voice.to_string(),
            text: text.to_string(),
            reply,
        };
        pool.jobs.send(job).ok()?;
        answer.await.ok()
    }

    async fn started(self: &Arc<Self>) -> Option<&Pool> {
        if self.pool.get().is_none() {
            // Loading the instances reads files and the voices' data: off the async threads.
            let renderers = self.clone();
            tokio::task::spawn_blocking(move || {
                renderers.pool.get_or_init(|| renderers.start());
            })
            .await
            .ok()?;
        }
        self.pool.get()?.as_ref()
    }

    fn start(&self) -> Option<Pool> {
        let instances = match locate(&self.library).and_then(|file| copies(&file, self.threads, &self.scratch)) {
            Ok(instances) => instances,
            Err(e) => {
                tracing::info!(library = ?self.library, "espeak-ng library unavailable, narrations run the espeak-ng program: {e}");
                return None;
            }
        };
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = 0;
        for (i, instance) in instances.into_iter().enumerate() {
            // Each instance is initialised on its own thread, one after the
            // other: initialisation sets the process's LC_CTYPE.
            let (ready, started) = mpsc::sync_channel(1);
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("espeak-ng-{i}"))
                .spawn(move || match Engine::initialise(instance) {
                    Ok(mut engine) => {
                        let _ = ready.send(Ok(()));
                        engine.serve(&queue);
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                });
            let outcome = match spawned {
                Ok(_) => started
                    .recv()
                    .unwrap_or_else(|_| Err("the renderer thread stopped".into())),
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                Ok(()) => threads += 1,
                Err(e) => tracing::warn!(library = ?self.library, "an espeak-ng renderer did not start: {e}"),
            }
        }
        if threads == 0 {
            return None;
        }
        tracing::info!(threads, "narrations rendered by the espeak-ng library in process");
        Some(Pool { jobs, threads })
    }
}

/// One loaded copy of the library, its functions resolved.
struct Instance {
    /// Never unloaded (see the module's documentation).
    _library: ManuallyDrop<Library>,
    initialize_path: unsafe extern "C" fn(*const c_char),
    initialize: unsafe extern "C" fn(*mut *mut c_void) -> c_int,
    clear_error_context: unsafe extern "C" fn(*mut *mut c_void),
    initialize_output: unsafe extern "C" fn(c_int, c_int, *const c_char) -> c_int,
    get_sample_rate: unsafe extern "C" fn() -> c_int,
    status_message: unsafe extern "C" fn(c_int, *mut c_char, usize),
    set_synth_callback: unsafe extern "C" fn(Option<SynthCallback>),
    set_voice_by_name: unsafe extern "C" fn(*const c_char) -> c_int,
    set_voice_by_properties: unsafe extern "C" fn(*mut VoiceSelector) -> c_int,
    #[allow(clippy::type_complexity)]
    synthesize:
        unsafe extern "C" fn(*const c_void, usize, c_uint, c_int, c_uint, c_uint, *mut c_uint, *mut c_void) -> c_int,
    synchronize: unsafe extern "C" fn() -> c_int,
}

// SAFETY: an instance is moved to the thread that uses it and only that thread
// calls its functions; the pointers are plain code addresses.
unsafe impl Send for Instance {}

impl Instance {
    fn load(library: &OsStr) -> Result<Instance, String> {
        // SAFETY: loading libespeak-ng runs no initialisers beyond its
        // dependencies' (libc, libm, libpcaudio, libsonic).
        let library = unsafe { Library::new(library) }.map_err(|e| e.to_string())?;
        // SAFETY: the types are those of espeak-ng's headers, and the
        // pointers stay valid: the library is never unloaded.
        unsafe {
            macro_rules! function {
                ($name:literal) => {
                    *library.get($name).map_err(|e| e.to_string())?
                };
            }
            Ok(Instance {
                initialize_path: function!(b"espeak_ng_InitializePath\0"),
                initialize: function!(b"espeak_ng_Initialize\0"),
                clear_error_context: function!(b"espeak_ng_ClearErrorContext\0"),
                initialize_output: function!(b"espeak_ng_InitializeOutput\0"),
                get_sample_rate: function!(b"espeak_ng_GetSampleRate\0"),
                status_message: function!(b"espeak_ng_GetStatusCodeMessage\0"),
                set_synth_callback: function!(b"espeak_SetSynthCallback\0"),
                set_voice_by_name: function!(b"espeak_ng_SetVoiceByName\0"),
                set_voice_by_properties: function!(b"espeak_ng_SetVoiceByProperties\0"),
                synthesize: function!(b"espeak_ng_Synthesize\0"),
                synchronize: function!(b"espeak_ng_Synchronize\0"),
                _library: ManuallyDrop::new(library),
            })
        }
    }
}

/// The file of `library` as the dynamic linker finds it. That instance only
/// serves to find the file: nothing of it runs. It stays loaded, first of its
/// name, so that later look-ups of the name find it again and not one of the
/// copies (they bear the same soname).
fn locate(library: &OsStr) -> Result<PathBuf, String> {
    // SAFETY: loading libespeak-ng runs no initialisers beyond its
    // dependencies' (libc, libm, libpcaudio, libsonic).
    let library = unsafe { Library::new(library) }.map_err(|e| e.to_string())?;
    // SAFETY: only the symbol's address is used.
    let symbol =
        unsafe { library.get::<unsafe extern "C" fn()>(b"espeak_ng_Initialize\0") }.map_err(|e| e.to_string())?;
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // SAFETY: dladdr only reads the linker's tables; the name it gives is
    // copied while the library is still loaded.
    let name = unsafe {
        if libc::dladdr(*symbol as *const c_void, &mut info) == 0 || info.dli_fname.is_null() {
            return Err("the library's file is unknown".into());
        }
        CStr::from_ptr(info.dli_fname).to_bytes().to_vec()
    };
    std::mem::forget(library);
    use std::os::unix::ffi::OsStringExt;
    Ok(PathBuf::from(OsString::from_vec(name)))
}

/// `count` instances (at least one), each loaded from a copy of `original`
/// of its own, so that none shares its globals with another, in this
/// renderer pool or any other of the process.
fn copies(original: &Path, count: usize, scratch: &Path) -> Result<Vec<Instance>, String> {
    let dir = PrivateDir::new(scratch)?;
    let mut copies: Vec<Instance> = Vec::with_capacity(count);
    for i in 0..count {
        let copy = dir.0.join(format!("libespeak-ng-{i}.so"));
        let loaded = std::fs::copy(original, &copy)
            .map_err(|e| format!("copying {}: {e}", original.display()))
            .and_then(|_| Instance::load(copy.as_os_str()));
        // Mapped (or not): the file is no longer needed.
        let _ = std::fs::remove_file(&copy);
        let refused = match loaded {
            // The linker took the copy for a library it had already loaded.
            Ok(instance)
                if copies
                    .iter()
                    .any(|c| c.initialize as usize == instance.initialize as usize) =>
            {
                "the dynamic linker shared an instance".to_string()
            }
            Ok(instance) => {
                copies.push(instance);
                continue;
            }
            Err(e) => e,
        };
        if copies.is_empty() {
            return Err(refused);
        }
        tracing::warn!("{} espeak-ng renderer thread(s) of {count}: {refused}", copies.len());
        break;
    }
    Ok(copies)
}

/// A directory only this user can write to, removed with what it holds.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new(parent: &Path) -> Result<PrivateDir, String> {
        use std::os::unix::fs::DirBuilderExt;
        let path = parent.join(format!(
            "recado-espeak-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(PrivateDir(path))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the synthesis callback collects, on the renderer thread itself
/// (synchronous output calls it from within `espeak_ng_Synthesize`).
struct Heard {
    rate: u32,
    samples: Vec<i16>,
}

thread_local! {
    static HEARD: RefCell<Heard> = const { RefCell::new(Heard { rate: 0, samples: Vec::new() }) };
}

unsafe extern "C" fn heard(wav: *mut c_short, count: c_int, mut events: *mut Event) -> c_int {
    HEARD.with_borrow_mut(|heard| {
        // SAFETY: espeak-ng passes an event list ended by LIST_TERMINATED, and
        // `count` samples at `wav` (NULL at the end of the text).
        unsafe {
            while !events.is_null() && (*events).kind != ESPEAK_EVENT_LIST_TERMINATED {
                if (*events).kind == ESPEAK_EVENT_SAMPLERATE {
                    heard.rate = (*events).id_number as u32;
                }
                events = events.add(1);
            }
            if !wav.is_null() && count > 0 {
                heard
                    .samples
                    .extend_from_slice(std::slice::from_raw_parts(wav, count as usize));
            }
        }
    });
    0 // go on
}

/// An initialised instance on its renderer thread.
struct Engine {
    api: Instance,
    rate: u32,
    /// The voice set last, to set it again only when it changes.
    voice: Option<String>,
}

impl Engine {
    fn initialise(api: Instance) -> Result<Engine, String> {
        // SAFETY: this thread owns the instance; arguments are as documented
        // in espeak_ng.h (a NULL path: the default data directory; a NULL
        // device: none, output is synchronous).
        unsafe {
            (api.initialize_path)(std::ptr::null());
            let mut context: *mut c_void = std::ptr::null_mut();
            let status = (api.initialize)(&mut context);
            if !context.is_null() {
                (api.clear_error_context)(&mut context);
            }
            if status != ENS_OK {
                return Err(api.message(status));
            }
            let status = (api.initialize_output)(ENOUTPUT_MODE_SYNCHRONOUS, 0, std::ptr::null());
            if status != ENS_OK {
                return Err(api.message(status));
            }
            (api.set_synth_callback)(Some(heard));
            let rate = u32::try_from((api.get_sample_rate)()).map_err(|_| "no sample rate".to_string())?;
            Ok(Engine { api, rate, voice: None })
        }
    }

    fn serve(&mut self, queue: &Mutex<mpsc::Receiver<Job>>) {
        loop {
            let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
            // Every sender gone: the renderers were dropped.
            let Ok(job) = job else { return };
            let _ = job.reply.send(self.speak(&job.voice, &job.text));
        }
    }

    fn speak(&mut self, voice: &str, text: &str) -> Result<Spoken, String> {
        let voice = if voice.is_empty() { "default" } else { voice };
        if self.voice.as_deref() != Some(voice) {
            self.voice = None;
            self.set_voice(voice)?;
            self.voice = Some(voice.to_string());
        }
        // The program reads the text as a C string: it ends at a NUL.
        let text = text.split('\0').next().unwrap_or_default();
        let text = CString::new(text).expect("no NUL left");
        HEARD.with_borrow_mut(|heard| {
            heard.rate = self.rate;
            heard.samples.clear();
        });
        // SAFETY: this thread owns the instance; the text is NUL-terminated and
        // outlives the synchronous call, during which `heard` runs on this thread.
        let status = unsafe {
            let status = (self.api.synthesize)(
                text.as_ptr().cast(),
                text.as_bytes_with_nul().len(),
                0,
                POS_CHARACTER,
                0,
                SYNTH_FLAGS,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            (self.api.synchronize)();
            status
        };
        let heard = HEARD.with_borrow_mut(|heard| Spoken {
            rate: heard.rate,
            samples: std::mem::take(&mut heard.samples),
        });
        if status != ENS_OK {
            return Err(self.api.message(status));
        }
        Ok(heard)
    }

    /// The voice by name, else by language, as the program sets `-v`.
    fn set_voice(&mut self, voice: &str) -> Result<(), String> {
        let refused = || format!("Failed to read voice '{voice}'");
        let name = CString::new(voice).map_err(|_| refused())?;
        // SAFETY: this thread owns the instance; the name outlives the calls,
        // and the selector is an `espeak_VOICE` with only `languages` set.
        unsafe {
            if (self.api.set_voice_by_name)(name.as_ptr()) == ENS_OK {
                return Ok(());
            }
            let mut selector = VoiceSelector {
                name: std::ptr::null(),
                languages: name.as_ptr(),
                identifier: std::ptr::null(),
                gender: 0,
                age: 0,
                variant: 0,
                xx1: 0,
                score: 0,
                spare: std::ptr::null_mut(),
            };
            if (self.api.set_voice_by_properties)(&mut selector) == ENS_OK {
                return Ok(());
            }
        }
        Err(refused())
    }
}

impl Instance {
    fn message(&self, status: c_int) -> String {
        let mut buffer = [0 as c_char; 256];
        // SAFETY: the function writes at most `length` bytes, NUL included.
        unsafe {
            (self.status_message)(status, buffer.as_mut_ptr(), buffer.len());
            CStr::from_ptr(buffer.as_ptr()).to_string_lossy().into_owned()
        }
    }
}
