//! The audit's writer: a bounded queue and one task that appends what it holds in batches,
//! so a request only ever pays for putting its record in the queue.
//!
//! The policy (README, "Audit"):
//! - **Batches**: the writer takes up to `batch_size` records, waiting at most
//!   `flush_interval` after the first for more, and appends them in one transaction.
//! - **Full queue**: a record waits at most `full_wait` for room, then is dropped and
//!   counted (`systembruker_audit_dropped_total{reason="full"}`), with a warning at most
//!   every ten seconds. The queue never grows beyond `queue_capacity`.
//! - **Database errors**: a batch is tried three times, then dropped and counted
//!   (`reason="write_failed"`) with an error in the log.
//! - **Shutdown**: [`Recorder::close`] closes the queue, the writer appends everything
//!   still in it and ends; the server calls it after the last request was answered, so
//!   every answered decision's record is written. A SIGKILL loses at most what is in the
//!   queue and the batch being written: `queue_capacity + batch_size` records, in practice
//!   the last `flush_interval` of records.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use systembruker_storage::{NewAuditRecord, Store};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// How the audit records, and for how long it keeps what it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// Off: nothing is recorded (`--audit off`, for the benchmarks' comparison).
    pub enabled: bool,
    /// Records the queue holds at most.
    pub queue_capacity: usize,
    /// Records appended in one transaction at most.
    pub batch_size: usize,
    /// How long the writer waits for a batch to fill after its first record.
    pub flush_interval: Duration,
    /// How long a record waits for room in a full queue before it is dropped.
    pub full_wait: Duration,
    /// Records older than this many days are purged.
    pub retention_days: u32,
}

/// The default retention: 90 days.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            queue_capacity: 65_536,
            batch_size: 500,
            flush_interval: Duration::from_millis(50),
            full_wait: Duration::from_millis(5),
            retention_days: DEFAULT_RETENTION_DAYS,
        }
    }
}

impl AuditSettings {
    /// The moment (unix milliseconds) before which records have outlived the retention.
    pub fn cutoff_millis(&self, now_millis: i64) -> i64 {
        now_millis - i64::from(self.retention_days) * 24 * 3600 * 1000
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DropLabels {
    /// `full`, `closed` or `write_failed`.
    pub reason: String,
}

/// The audit's metrics, for the registry.
#[derive(Clone, Default)]
pub struct AuditMetrics {
    /// Records appended to the database.
    pub written: Counter,
    /// Records lost, by reason.
    pub dropped: Family<DropLabels, Counter>,
    /// Records waiting in the queue.
    pub queued: Gauge,
}

impl AuditMetrics {
    fn drop_records(&self, reason: &str, count: u64) {
        self.dropped
            .get_or_create(&DropLabels {
                reason: reason.to_string(),
            })
            .inc_by(count);
    }
}

enum Message {
    Record(Box<NewAuditRecord>),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

struct Inner {
    sender: mpsc::Sender<Message>,
    closing: watch::Sender<bool>,
    writer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    metrics: AuditMetrics,
    full_wait: Duration,
    /// Unix milliseconds of the last "queue full" warning (at most one per ten seconds).
    last_warning: AtomicI64,
}

/// The handle use cases record through; cheap to clone. A disabled recorder records
/// nothing.
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Option<Arc<Inner>>,
    metrics: AuditMetrics,
}

const WARNING_EVERY_MILLIS: i64 = 10_000;
const WRITE_ATTEMPTS: u32 = 3;

impl Recorder {
    /// A recorder that records nothing.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// Starts the writer task on the current Tokio runtime; disabled settings (or no
    /// runtime to run the writer on) give a disabled recorder.
    pub fn start(store: Arc<dyn Store>, settings: &AuditSettings) -> Self {
        if !settings.enabled {
            return Self::disabled();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no async runtime to run the audit's writer on: the audit is off");
            return Self::disabled();
        };
        let metrics = AuditMetrics::default();
        let (sender, receiver) = mpsc::channel(settings.queue_capacity.max(1));
        let (closing, closed) = watch::channel(false);
        let writer = Writer {
            store,
            receiver,
            closed,
            batch_size: settings.batch_size.max(1),
            flush_interval: settings.flush_interval,
            metrics: metrics.clone(),
        };
        let handle = runtime.spawn(writer.run());
        Self {
            inner: Some(Arc::new(Inner {
                sender,
                closing,
                writer: tokio::sync::Mutex::new(Some(handle)),
                metrics: metrics.clone(),
                full_wait: settings.full_wait,
                last_warning: AtomicI64::new(i64::MIN),
            })),
            metrics,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    pub fn metrics(&self) -> AuditMetrics {
        self.metrics.clone()
    }

    /// Queues `record`; waits at most `full_wait` when the queue is full, then drops it.
    pub async fn record(&self, record: NewAuditRecord) {
        let Some(inner) = &self.inner else { return };
        let message = Message::Record(Box::new(record));
        let message = match inner.sender.try_send(message) {
            Ok(()) => {
                inner.metrics.queued.inc();
                return;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                inner.metrics.drop_records("closed", 1);
                return;
            }
            Err(mpsc::error::TrySendError::Full(message)) => message,
        };
        match inner.sender.send_timeout(message, inner.full_wait).await {
            Ok(()) => {
                inner.metrics.queued.inc();
            }
            Err(mpsc::error::SendTimeoutError::Closed(_)) => {
                inner.metrics.drop_records("closed", 1);
            }
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                inner.metrics.drop_records("full", 1);
                inner.warn_full();
            }
        }
    }

    /// Queues every record of `records` (see [`Self::record`]).
    pub async fn record_all(&self, records: impl IntoIterator<Item = NewAuditRecord>) {
        if self.inner.is_none() {
            return;
        }
        for record in records {
            self.record(record).await;
        }
    }

    /// Waits until every record queued before this call is written (or dropped).
    pub async fn flush(&self) {
        let Some(inner) = &self.inner else { return };
        let (done, written) = oneshot::channel();
        if inner.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }

    /// Closes the queue and waits for the writer to append what it still holds. Records
    /// offered afterwards are dropped (and counted).
    pub async fn close(&self) {
        let Some(inner) = &self.inner else { return };
        let _ = inner.closing.send(true);
        let handle = inner.writer.lock().await.take();
        if let Some(handle) = handle
            && let Err(err) = handle.await
        {
            tracing::error!(error = %err, "the audit's writer ended abnormally");
        }
    }
}

impl Inner {
    fn warn_full(&self) {
        let now = crate::audit::now_millis();
        let last = self.last_warning.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= WARNING_EVERY_MILLIS
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                "the audit's queue is full: records are being dropped (see systembruker_audit_dropped_total)"
            );
        }
    }
}

struct Writer {
    store: Arc<dyn Store>,
    receiver: mpsc::Receiver<Message>,
    closed: watch::Receiver<bool>,
    batch_size: usize,
    flush_interval: Duration,
    metrics: AuditMetrics,
}

impl Writer {
    async fn run(mut self) {
        let mut batch: Vec<NewAuditRecord> = Vec::with_capacity(self.batch_size);
        let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
        loop {
            let Some(first) = self.next_or_close().await else {
                break;
            };
            self.take(first, &mut batch, &mut waiting);
            let deadline = tokio::time::Instant::now() + self.flush_interval;
            while batch.len() < self.batch_size && waiting.is_empty() {
                match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
                    Ok(Some(message)) => self.take(message, &mut batch, &mut waiting),
                    Ok(None) | Err(_) => break,
                }
            }
            self.write(&mut batch).await;
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
        }
        // Closed: append everything still queued, then end.
        while let Some(message) = self.receiver.recv().await {
            self.take(message, &mut batch, &mut waiting);
            if batch.len() >= self.batch_size {
                self.write(&mut batch).await;
            }
        }
        self.write(&mut batch).await;
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }

    /// The next message, or `None` once the recorder is closed (the queue is then closed
    /// too, so what is in it can be drained).
    async fn next_or_close(&mut self) -> Option<Message> {
        if *self.closed.borrow() {
            self.receiver.close();
            return None;
        }
        tokio::select! {
            message = self.receiver.recv() => message,
            _ = self.closed.changed() => {
                self.receiver.close();
                None
            }
        }
    }

    fn take(
        &self,
        message: Message,
        batch: &mut Vec<NewAuditRecord>,
        waiting: &mut Vec<oneshot::Sender<()>>,
    ) {
        match message {
            Message::Record(record) => {
                self.metrics.queued.dec();
                batch.push(*record);
            }
            Message::Flush(done) => waiting.push(done),
        }
    }

    async fn write(&self, batch: &mut Vec<NewAuditRecord>) {
        if batch.is_empty() {
            return;
        }
        let count = batch.len() as u64;
        for attempt in 1..=WRITE_ATTEMPTS {
            match self.store.append_audit(batch).await {
                Ok(()) => {
                    self.metrics.written.inc_by(count);
                    batch.clear();
                    return;
                }
                Err(err) if attempt < WRITE_ATTEMPTS => {
                    tracing::warn!(error = %err, attempt, "the audit's batch was not written; trying again");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(err) => {
                    tracing::error!(error = %err, records = count, "the audit's batch was not written: dropped");
                }
            }
        }
        self.metrics.drop_records("write_failed", count);
        batch.clear();
    }
}
