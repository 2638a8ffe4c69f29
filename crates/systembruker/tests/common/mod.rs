//! Helpers the binary's tests share.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::TcpListener;

/// A loopback port nothing listens on right now, for a server process to take.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
