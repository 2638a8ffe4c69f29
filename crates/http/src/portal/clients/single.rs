//! Adding and removing one client, and the organisation itself, from a row's form.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::super::page::is_fault;
use super::*;
use systembruker_app::clients::{add_client, add_firm_itself, remove_client, remove_firm_itself};

// ----- adding and removing one client -----

/// A row's form: the client, and the view to return to.
#[derive(Deserialize)]
pub(crate) struct ClientForm {
    client: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    hide_added: String,
}

impl ClientForm {
    fn client(&self) -> Result<Uuid, Failure> {
        Uuid::parse_str(self.client.trim()).map_err(|_| Failure::BadForm)
    }

    /// Back to the page the form was on, with the outcome for the notice.
    fn answer(&self, agent: Uuid, done: &str, outcome: Result<(), AppError>) -> Response {
        let path = if self.from == "details" {
            details_path(agent)
        } else {
            add_path(agent)
        };
        let outcome = match &outcome {
            Ok(()) => ("done", done),
            Err(e) => ("error", error_param(e)),
        };
        let mut pairs = vec![outcome, ("client", self.client.trim())];
        for (name, value) in [
            ("q", self.q.trim()),
            ("page", self.page.trim()),
            ("hide_added", self.hide_added.trim()),
        ] {
            if !value.is_empty() {
                pairs.push((name, value));
            }
        }
        see_other(&format!("{}#notice", with_query(&path, &pairs)))
    }
}

/// A server fault is a page of its own; a refusal is explained next to the list.
fn refusal_or_fault(outcome: Result<(), AppError>) -> Result<Result<(), AppError>, Failure> {
    match outcome {
        Err(e) if is_fault(&e) => Err(e.into()),
        other => Ok(other),
    }
}

/// `POST /systemuser/{id}/agentdelegation/clients/add`: adds one client.
pub(crate) async fn add_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ClientForm>,
) -> Response {
    let result = async {
        let agent = open_agent(&state, &viewer, &id).await?;
        agent.require_client_admin()?;
        let client = form.client()?;
        let outcome = add_client(&state.app.app, &viewer.caller(), &agent.user, client)
            .await
            .map(|_| ());
        Ok(form.answer(agent.user.id, "added", refusal_or_fault(outcome)?))
    }
    .await;
    viewer.finish(result)
}

/// `POST /systemuser/{id}/agentdelegation/clients/remove`: removes one client (the
/// organisation itself goes through the access manager's rule).
pub(crate) async fn remove_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ClientForm>,
) -> Response {
    let result = async {
        let agent = open_agent(&state, &viewer, &id).await?;
        let client = form.client()?;
        let caller = viewer.caller();
        let outcome = if client == agent.acting.party.uuid {
            remove_firm_itself(&state.app.app, &caller, &agent.acting.party, agent.user.id)
                .await
                .map(|_| ())
        } else {
            agent.require_client_admin()?;
            remove_client(&state.app.app, &caller, &agent.user, client).await
        };
        Ok(form.answer(agent.user.id, "removed", refusal_or_fault(outcome)?))
    }
    .await;
    viewer.finish(result)
}

#[derive(Deserialize)]
pub(crate) struct SelfForm {
    action: String,
}

/// `POST /systemuser/{id}/agentdelegation/self`: the access manager adds or removes the
/// organisation itself.
pub(crate) async fn self_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SelfForm>,
) -> Response {
    let result = async {
        let acting = acting(&state, &viewer).await?;
        let id = Uuid::parse_str(id.trim()).map_err(|_| Failure::NotFound)?;
        let caller = viewer.caller();
        let (done, outcome) = match form.action.as_str() {
            "add" => (
                "self_added",
                add_firm_itself(&state.app.app, &caller, &acting.party, id).await,
            ),
            "remove" => (
                "self_removed",
                remove_firm_itself(&state.app.app, &caller, &acting.party, id).await,
            ),
            _ => return Err(Failure::BadForm),
        };
        let pairs = match outcome {
            Ok(_) => [("done", done)],
            Err(AppError::Rule(RuleError::SystemUserNotFound { .. })) => {
                return Err(Failure::NotFound);
            }
            Err(e) if is_fault(&e) => return Err(e.into()),
            Err(e) => [("error", error_param(&e))],
        };
        Ok(see_other(&format!(
            "{}#notice",
            with_query(&details_path(id), &pairs)
        )))
    }
    .await;
    viewer.finish(result)
}
