//! The command line: `recado serve | migrate | backup | sms analyze | workspace create`.

use crate::config::Overrides;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "recado", version, about = "Recado: a self-hosted business messaging hub")]
pub struct Cli {
    /// Listen address (RECADO_LISTEN; default 127.0.0.1:8080).
    #[arg(long, global = true)]
    pub listen: Option<String>,
    /// Data directory for the SQLite file and keys (RECADO_DATA_DIR; default ./data).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://… or postgres://… (RECADO_DATABASE_URL).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Public base URL for links and webhook URLs (RECADO_PUBLIC_URL).
    #[arg(long, global = true)]
    pub public_url: Option<String>,
    /// Config file (RECADO_CONFIG; default ./recado.toml if present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the API, web UI, webhooks and workers in one process.
    Serve {
        /// Fill an empty database with demo data to try everything offline.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Copy the SQLite database to FILE while the hub may keep running.
    Backup { file: PathBuf },
    /// SMS tools.
    Sms {
        #[command(subcommand)]
        command: SmsCommand,
    },
    /// Workspace administration.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// User administration from the machine the hub runs on.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Give the user with this e-mail a new generated sign-in password (printed
    /// once) and end their web sessions: the way back in for a locked-out admin.
    ResetPassword { email: String },
}

#[derive(Subcommand, Debug)]
pub enum SmsCommand {
    /// Print encoding, parts and replacements of TEXT as JSON (same as the API).
    Analyze {
        text: String,
        /// transliterate (default) or auto.
        #[arg(long)]
        policy: Option<String>,
        /// pt, es or tr.
        #[arg(long)]
        national_language: Option<String>,
        #[arg(long)]
        max_segments: Option<u32>,
    },
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// Create a workspace with an admin and print the admin's API token once.
    Create {
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        default_country: Option<String>,
    },
}

impl Cli {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            public_url: self.public_url.clone(),
            ..Default::default()
        }
    }
}
