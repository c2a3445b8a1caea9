//! Recado, the hub in one binary: the command line, settings, the application
//! builder and demo data. `main.rs` only parses the command line; tests build
//! the same [`Application`]. The HTTP side is `recado-web`, the services
//! `recado-app`.

pub mod application;
pub mod cli;
pub mod config;
pub mod demo;

pub use application::Application;
