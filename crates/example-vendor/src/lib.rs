//! SmartRegnskap by SmartCloud AS: the vendor's side of the system-user journeys, as a
//! small web app of its own.
//!
//! - **Customer**: sign-up → a vendor request with a fresh `externalRef` and the app's
//!   registered receipt URL → the platform's `confirmUrl` → back on the receipt → the
//!   dashboard, which gets a system-user token for that customer (cached per customer and
//!   externalRef) and shows the customer's claims from the provider's API, or the refusal.
//! - **Accountant**: an agent request for the firm, then the firm's clients through the
//!   vendor client-delegation API, with each client's data (or the refusal), and "add".
//! - **Change request**: "also let us …" from the dashboard.
//!
//! Sign-ups live in memory: a restart forgets them (the system users stay on the platform).

pub mod html;
pub mod pages;
pub mod platform;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::RwLock;

use crate::platform::Platform;

/// One sign-up: the request SmartCloud made and for whom. Keyed by its `externalRef`.
#[derive(Debug, Clone)]
pub struct Signup {
    pub external_ref: String,
    /// The customer, or the accounting firm.
    pub org: String,
    pub org_name: String,
    /// The request id, which becomes the system user's id.
    pub request_id: String,
    pub confirm_url: String,
    /// Accountant sign-ups: the person using the app (for the client-delegation API).
    pub accountant: Option<String>,
    /// The last change request, if any.
    pub change: Option<String>,
}

impl Signup {
    pub fn is_agent(&self) -> bool {
        self.accountant.is_some()
    }

    pub fn dashboard(&self) -> String {
        if self.is_agent() {
            format!("/firm/{}", self.external_ref)
        } else {
            format!("/customer/{}", self.external_ref)
        }
    }
}

pub struct AppState {
    pub platform: Platform,
    /// Where the browser reaches this app (for the redirect URL).
    pub public_url: String,
    /// The provider's API base URL.
    pub provider_url: String,
    pub signups: RwLock<HashMap<String, Signup>>,
}

pub type State = Arc<AppState>;

impl AppState {
    pub fn receipt_url(&self) -> String {
        format!("{}/receipt", self.public_url)
    }

    pub async fn signup(&self, external_ref: &str) -> Option<Signup> {
        self.signups.read().await.get(external_ref).cloned()
    }
}

pub fn app(state: State) -> Router {
    Router::new()
        .route("/", get(pages::front))
        .route("/login", get(pages::login))
        .route("/signup", get(pages::signup_form).post(pages::signup))
        .route(
            "/signup/accountant",
            get(pages::accountant_form).post(pages::accountant_signup),
        )
        .route("/receipt", get(pages::receipt))
        .route("/customer/{reference}", get(pages::customer))
        .route("/customer/{reference}/change", post(pages::change))
        .route("/firm/{reference}", get(pages::firm))
        .route("/firm/{reference}/clients", post(pages::add_client))
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
}
