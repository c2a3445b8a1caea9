//! A proxy in front of ARI that counts what the hub originates.

use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP proxy in front of ARI that passes everything through (requests and
/// the event WebSocket) and notes the channel ids the hub originates, and
/// when.
pub struct AriProxy {
    pub url: String,
    pub originated: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl AriProxy {
    pub async fn start(ari_url: &str) -> AriProxy {
        let rest = ari_url.strip_prefix("http://").expect("the rig's ARI over http");
        let (target, path) = rest.split_once('/').map_or((rest, ""), |(t, p)| (t, p));
        let target = target.to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/{path}", listener.local_addr().unwrap());
        let originated = Arc::new(Mutex::new(Vec::new()));
        let noted = originated.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                    continue;
                };
                let noted = noted.clone();
                tokio::spawn(async move {
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    });
                    let mut pending = String::new();
                    let mut buf = [0u8; 8192];
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        pending.push_str(&String::from_utf8_lossy(&buf[..n]));
                        while let Some(end) = pending.find("\r\n") {
                            let line: String = pending.drain(..end + 2).collect();
                            // A request line may follow the body of the
                            // previous request on the same line.
                            if let Some(rest) = line.find("POST /").map(|at| &line[at + 5..]) {
                                let path = rest.split([' ', '?']).next().unwrap_or("");
                                if let Some(id) = path.rsplit_once("/channels/").map(|(_, id)| id) {
                                    if !id.contains('/') {
                                        noted.lock().unwrap().push((id.to_string(), Instant::now()));
                                    }
                                }
                            }
                        }
                        // WebSocket frames are masked bytes with no lines:
                        // keep only the tail a request line may continue.
                        if pending.len() > 16_384 {
                            pending.clear();
                        }
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        AriProxy { url, originated }
    }

    pub fn originations_of(&self, channel_id: &str) -> usize {
        self.originated
            .lock()
            .unwrap()
            .iter()
            .filter(|(id, _)| id == channel_id)
            .count()
    }
}
