use anyhow::Context;
use clap::Parser;
use recado::cli::{Cli, Command, SmsCommand, UserCommand, WorkspaceCommand};
use recado::config::{self, Settings};
use recado::{demo, Application};
use recado_app::bootstrap;
use recado_app::sms::analysis::{self, AnalysisRequest};
use recado_store::Store;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let env = |k: &str| std::env::var(k).ok();
    let settings = config::load(cli.config.as_deref(), &env, cli.overrides())?;
    init_tracing(&settings);
    match cli.command {
        Command::Serve { demo: with_demo } => serve(settings, with_demo).await,
        Command::Migrate => {
            let store = open(&settings).await?;
            store.migrate().await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Backup { file } => {
            let store = open(&settings).await?;
            let path = file.to_str().context("backup path must be UTF-8")?;
            store.backup_sqlite(path).await?;
            println!("backup written to {path}");
            Ok(())
        }
        Command::Sms {
            command:
                SmsCommand::Analyze {
                    text,
                    policy,
                    national_language,
                    max_segments,
                },
        } => {
            let input = serde_json::json!({"text": text, "policy": policy, "national_language": national_language, "max_segments": max_segments});
            let input: AnalysisRequest = serde_json::from_value(input)
                .context("policy is transliterate or auto; national language is pt, es or tr")?;
            match analysis::analyze(&input) {
                Ok(analysis) => {
                    println!("{}", serde_json::to_string_pretty(&analysis)?);
                    Ok(())
                }
                Err(e) => anyhow::bail!("{}: {}", e.code, e.message),
            }
        }
        Command::User {
            command: UserCommand::ResetPassword { email },
        } => {
            let store = open(&settings).await?;
            store.migrate().await?;
            match bootstrap::reset_password(&store, &email, settings.password_cost).await? {
                Some(password) => {
                    println!("new sign-in password for {email} (shown once): {password}");
                    Ok(())
                }
                None => anyhow::bail!("no user with the e-mail {email}"),
            }
        }
        Command::Workspace {
            command:
                WorkspaceCommand::Create {
                    name,
                    admin_email,
                    default_country,
                },
        } => {
            let store = open(&settings).await?;
            store.migrate().await?;
            let request = recado_app::workspaces::NewWorkspace {
                name,
                default_country,
                admin_email,
                admin_password: None,
            };
            let clock = recado_core::clock::SystemClock;
            let created = recado_app::workspaces::create(&store, &clock, settings.password_cost, request)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
            println!(
                "workspace {} created ({})\nadmin API token (shown once): {}\n\
                 web sign-in: {} with password {} (shown once)",
                created.name,
                created.id,
                created.admin_token,
                created.admin_email,
                created.generated_password.unwrap_or_default()
            );
            Ok(())
        }
    }
}

async fn open(settings: &Settings) -> anyhow::Result<Store> {
    if settings.is_sqlite() {
        std::fs::create_dir_all(&settings.data_dir)?;
    }
    Ok(Store::connect(settings.database_url.expose()).await?)
}

async fn serve(settings: Settings, with_demo: bool) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    if let Some(token) = &app.first_start.token {
        println!("Admin API token (shown once, keep it safe): {token}");
    }
    if let Some(password) = &app.first_start.password {
        println!(
            "Web sign-in: {} with password {password} (shown once; change it under Users)",
            bootstrap::FIRST_ADMIN_EMAIL
        );
    }
    if with_demo {
        demo::fill_if_empty(&app.state).await?;
    }
    let addr = app.state.settings.listen.ip();
    println!("Recado is listening on http://{addr}:{}", app.port());
    let shutdown = app.shutdown_handle();
    tokio::spawn(async move {
        stop_signal().await;
        tracing::info!("stopping: finishing the jobs in hand");
        let _ = shutdown.send(true);
    });
    app.run_until_stopped().await?;
    Ok(())
}

/// Ctrl-C, or SIGTERM as service managers send it.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn init_tracing(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RECADO_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if settings.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}
