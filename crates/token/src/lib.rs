//! systembruker-token
