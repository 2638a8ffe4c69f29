//! `systembruker import parties`: the operator API's bulk import, offline, on the
//! database directly (all or nothing).

use std::path::Path;

use anyhow::Context;
use systembruker_app::register::import;

use crate::cli::DatabaseArgs;

pub async fn import_parties(file: &Path, database: &DatabaseArgs) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let is_csv = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let parsed = if is_csv {
        import::parse_csv(&text)
    } else {
        import::parse_json(&text)
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = database.open().await?;
    let report = import::apply(&store, parsed)
        .await
        .context("storing the parties")?;
    println!("{}", serde_json_line(&report));
    store.close().await;
    anyhow::ensure!(
        report.rejected.is_empty(),
        "nothing was imported: {} rows were rejected",
        report.rejected.len()
    );
    Ok(())
}

fn serde_json_line<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
