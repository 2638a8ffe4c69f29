//! systembruker-http
