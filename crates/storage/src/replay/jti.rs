//! What both ways of remembering assertion ids share: one use, and the sizes of a round.

/// Expired assertion ids are deleted on every this many inserts (table and log alike).
pub(crate) const JTI_PURGE_EVERY: u64 = 512;
/// Rows per statement when a round remembers many jtis (3 binds each, plus `now`).
pub(crate) const JTI_ROWS_PER_STATEMENT: usize = 200;

/// One use of an assertion id, queued for a round of writes (`replay/mod.rs`).
pub(crate) struct JtiUse {
    pub(crate) client_id: String,
    pub(crate) jti: String,
    pub(crate) expires_at: i64,
}
