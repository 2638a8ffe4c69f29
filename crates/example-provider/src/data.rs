//! The demo's claims and payments per organisation. The journey's organisations have
//! fixed statements; any other organisation number gets one derived from its digits, so
//! every call for the same organisation shows the same numbers.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    pub id: String,
    /// What the claim is for (`Merverdiavgift`, `Arbeidsgiveravgift`, …).
    pub kind: &'static str,
    pub period: String,
    /// Amount in whole kroner.
    pub amount: u64,
    pub due: String,
    /// `open` or `paid`.
    pub status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    pub date: String,
    pub amount: u64,
    pub claim_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub organisation: String,
    pub claims: Vec<Claim>,
    pub payments: Vec<Payment>,
}

const KINDS: [&str; 4] = [
    "Merverdiavgift",
    "Arbeidsgiveravgift",
    "Forskuddsskatt",
    "Restskatt",
];

fn claim(
    org: &str,
    n: usize,
    kind: &'static str,
    period: &str,
    amount: u64,
    due: &str,
    paid: bool,
) -> Claim {
    Claim {
        id: format!("KRAV-{}-{n:02}", &org[org.len().saturating_sub(4)..]),
        kind,
        period: period.to_string(),
        amount,
        due: due.to_string(),
        status: if paid { "paid" } else { "open" },
    }
}

/// The statement of `org` (a valid organisation number).
pub fn statement(org: &str) -> Statement {
    let claims = match org {
        // Rør og Vann AS
        "315000009" => vec![
            claim(
                org,
                1,
                "Merverdiavgift",
                "2026 termin 4",
                48_750,
                "2026-10-10",
                true,
            ),
            claim(
                org,
                2,
                "Arbeidsgiveravgift",
                "2026 termin 5",
                31_204,
                "2026-11-16",
                false,
            ),
            claim(
                org,
                3,
                "Forskuddsskatt",
                "2026 termin 4",
                22_000,
                "2026-11-15",
                false,
            ),
        ],
        // Bakeriet Brød AS
        "315200008" => vec![
            claim(
                org,
                1,
                "Merverdiavgift",
                "2026 termin 4",
                12_380,
                "2026-10-10",
                true,
            ),
            claim(
                org,
                2,
                "Arbeidsgiveravgift",
                "2026 termin 5",
                9_115,
                "2026-11-16",
                false,
            ),
        ],
        _ => derived_claims(org),
    };
    let payments = claims
        .iter()
        .filter(|c| c.status == "paid")
        .map(|c| Payment {
            date: c.due.clone(),
            amount: c.amount,
            claim_id: c.id.clone(),
        })
        .collect();
    Statement {
        organisation: org.to_string(),
        claims,
        payments,
    }
}

fn derived_claims(org: &str) -> Vec<Claim> {
    let seed: u64 = org.bytes().map(|b| u64::from(b.wrapping_sub(b'0'))).sum();
    (0..2 + (seed % 3) as usize)
        .map(|i| {
            let amount = 1_000 + (seed * 7_919 + i as u64 * 3_571) % 60_000;
            claim(
                org,
                i + 1,
                KINDS[(seed as usize + i) % KINDS.len()],
                &format!("2026 termin {}", 3 + i % 3),
                amount,
                &format!("2026-{:02}-15", 9 + i % 3),
                i == 0,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_organisation_gets_the_same_statement_each_time() {
        assert_eq!(statement("311654306"), statement("311654306"));
        assert!(!statement("311654306").claims.is_empty());
    }

    #[test]
    fn payments_are_the_paid_claims() {
        let ror = statement("315000009");
        assert_eq!(ror.claims.len(), 3);
        assert_eq!(ror.payments.len(), 1);
        assert_eq!(ror.payments[0].claim_id, ror.claims[0].id);
    }
}
