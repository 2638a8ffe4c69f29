//! "Add all": every client that matches a search, in batches, so that one client that
//! cannot be added does not stop the others.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use systembruker_storage::{ClientCandidate, NewClientDelegation, StoredSystemUser};

use super::*;
use crate::auth::Caller;
use systembruker_app::clients::{add_clients, available_plans};

/// Clients per `add_clients` call of "add all": one transaction each, so a client whose
/// relation ended meanwhile only costs its own batch a second, one-by-one try.
const BATCH_SIZE: usize = 500;
/// Batches per call of the script: every call reads the firm's client list again (each
/// batch moves the facts counter its cache hangs on), so a call does a few batches, and
/// still answers within about a second for the progress bar.
const BATCHES_PER_CALL: usize = 4;

// ----- adding all that match a search -----

/// A client "add all" could not add, and why.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FailedClient {
    pub name: String,
    pub reason: String,
}

/// What a run of "add all" (or one batch of it) did.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Tally {
    /// Clients that were not added before: added now, or failed.
    pub attempted: usize,
    pub added: usize,
    pub failed: Vec<FailedClient>,
}

impl Tally {
    fn count_added(&mut self, new: u64) {
        let new = usize::try_from(new).unwrap_or(usize::MAX);
        self.attempted += new;
        self.added += new;
    }
}

type Planned = (ClientCandidate, NewClientDelegation);

/// The firm's clients that match the search, each with its plan, in the list's order.
async fn matching_plans(
    state: &PortalState,
    agent: &StoredSystemUser,
    query: &str,
) -> Result<Vec<Planned>, Failure> {
    let search = Search::new(query);
    let mut plans = available_plans(&state.app.app, agent).await?;
    plans.retain(|(c, _)| search.matches(&c.name, &c.org_number));
    Ok(plans)
}

/// The part of the matching list one call of the script adds, from `offset`, and where
/// the next call starts. Clients added before are in it too: `add_clients` leaves them as
/// they are and does not count them, which spares every call a read of the agent's
/// 20,000 clients.
fn call_at(matching: &[Planned], offset: usize) -> (&[Planned], usize) {
    let start = offset.min(matching.len());
    let end = start
        .saturating_add(BATCH_SIZE * BATCHES_PER_CALL)
        .min(matching.len());
    (&matching[start..end], end)
}

/// Adds one batch in one call; if that fails, each client on its own, to tell which
/// ones cannot be added and why. Counts only clients that were not there before.
async fn add_batch(
    state: &PortalState,
    (caller, t): (&Caller, Texts),
    agent: &StoredSystemUser,
    batch: &[Planned],
    tally: &mut Tally,
) {
    let plans: Vec<NewClientDelegation> = batch.iter().map(|(_, plan)| plan.clone()).collect();
    if let Ok(new) = add_clients(&state.app.app, caller, agent, &plans).await {
        tally.count_added(new);
        return;
    }
    let names = Names::new(state, t);
    for (candidate, plan) in batch {
        match add_clients(&state.app.app, caller, agent, std::slice::from_ref(plan)).await {
            Ok(new) => tally.count_added(new),
            Err(e) => {
                tally.attempted += 1;
                tally.failed.push(FailedClient {
                    name: candidate.name.clone(),
                    reason: reason(&names, &e),
                });
            }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct AddAllForm {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "portal/clients_result.html")]
struct ResultPage {
    t: Texts,
    chrome: Chrome,
    summary: String,
    complete: bool,
    failed: Vec<FailedClient>,
    back: String,
    more: String,
}

/// `POST /systemuser/{id}/agentdelegation/clients/add-all`: without JavaScript, every
/// batch in this one request, then the summary.
pub(crate) async fn add_all_post(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AddAllForm>,
) -> Response {
    let result = async {
        let t = viewer.t();
        let agent = open_agent(&state, &viewer, &id).await?;
        agent.require_client_admin()?;
        let matching = matching_plans(&state, &agent.user, &form.q).await?;
        let caller = viewer.caller();
        let mut tally = Tally::default();
        for batch in matching.chunks(BATCH_SIZE) {
            add_batch(&state, (&caller, t), &agent.user, batch, &mut tally).await;
        }
        let summary = if tally.attempted == 0 {
            t.get("clients.add_all.nothing").to_string()
        } else {
            t.with2(
                "clients.add_all.result",
                ("added", &grouped(t, tally.added)),
                ("total", &grouped(t, tally.attempted)),
            )
        };
        let query = ListQuery {
            q: form.q.clone(),
            ..ListQuery::default()
        };
        let page = ResultPage {
            t,
            chrome: Chrome::new(&viewer.visit, t.get("clients.add_all.result_title"))
                .party(&agent.acting.party)
                .current("overview"),
            summary,
            complete: tally.failed.is_empty(),
            failed: tally.failed,
            back: details_path(agent.user.id),
            more: query.href(&add_path(agent.user.id), 1),
        };
        Ok(html(StatusCode::OK, &page))
    }
    .await;
    viewer.finish(result)
}

/// One batch of "add all", asked for by the portal's script.
#[derive(Deserialize)]
pub(crate) struct BatchRequest {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: usize,
}

/// What one batch did, and where the next starts.
#[derive(Serialize)]
struct BatchAnswer {
    #[serde(flatten)]
    tally: Tally,
    next: usize,
    done: bool,
}

/// `POST /systemuser/{id}/agentdelegation/clients/add-all/batch` (JSON, CSRF header):
/// the next [`BATCHES_PER_CALL`] batches of clients that match the search, from
/// `offset`, so the script can show progress. Any refusal is a JSON status; the script then sends the
/// plain form, whose page explains.
pub(crate) async fn add_all_batch(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfJson(request): CsrfJson<BatchRequest>,
) -> Response {
    let result = async {
        let agent = open_agent(&state, &viewer, &id).await?;
        agent.require_client_admin()?;
        let matching = matching_plans(&state, &agent.user, &request.q).await?;
        let (part, next) = call_at(&matching, request.offset);
        let caller = viewer.caller();
        let mut tally = Tally::default();
        for batch in part.chunks(BATCH_SIZE) {
            add_batch(
                &state,
                (&caller, viewer.t()),
                &agent.user,
                batch,
                &mut tally,
            )
            .await;
        }
        Ok(BatchAnswer {
            tally,
            next,
            done: next >= matching.len(),
        })
    }
    .await;
    match result {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(failure) => {
            let status = match failure {
                Failure::NotFound => StatusCode::NOT_FOUND,
                Failure::Api(e) => e.status,
                _ => StatusCode::FORBIDDEN,
            };
            (status, axum::Json(serde_json::json!({ "refused": true }))).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use systembruker_domain::catalogue::Language;

    use super::*;

    #[test]
    fn calls_cover_the_list_once() {
        let planned: Vec<Planned> = (0..4_501)
            .map(|i| {
                let party = Uuid::from_u128(i);
                let candidate = ClientCandidate {
                    party,
                    party_id: 0,
                    org_number: String::new(),
                    name: format!("{i}"),
                    unit_type: None,
                    relations: Vec::new(),
                };
                let plan = NewClientDelegation {
                    client: party,
                    packages: Vec::new(),
                };
                (candidate, plan)
            })
            .collect();
        let mut offset = 0;
        let mut sizes = Vec::new();
        while offset < planned.len() {
            let (part, next) = call_at(&planned, offset);
            sizes.push(part.len());
            offset = next;
        }
        assert_eq!(sizes, [2_000, 2_000, 501]);
        assert_eq!(call_at(&planned, 9_000), (&planned[..0], 4_501));
    }

    /// A relation that ends between the plan and the insert sinks its batch; the retry
    /// one by one adds the others and names the one that failed, with the reason.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_batch_is_retried_client_by_client() {
        use systembruker_domain::clients::ClientRelation;
        use systembruker_domain::systemuser::SystemUserType;
        use systembruker_storage::{Actor, Grants, NewSystemUser, SystemUserKey};

        use crate::demo::{BAKERIET, DEMO_SYSTEM, TALLMAKERNE, TINA};
        use crate::testing::{TestBackend, TestServer};

        let server = TestServer::start(TestBackend::Sqlite)
            .await
            .expect("server starts")
            .expect("sqlite is always there");
        let state = PortalState::new(server.state.clone());
        let org = systembruker_domain::OrgNumber::parse(TALLMAKERNE).expect("valid");
        let firm = state
            .store
            .organization(&org)
            .await
            .expect("store answers")
            .expect("demo firm");
        let id = Uuid::new_v4();
        let new = NewSystemUser {
            id,
            key: SystemUserKey {
                system_id: DEMO_SYSTEM.into(),
                org: TALLMAKERNE.into(),
                external_ref: "retry".into(),
            },
            owner_party_uuid: firm.uuid,
            integration_title: "SmartRegnskap".into(),
            user_type: SystemUserType::Agent,
            access_packages: vec!["regnskapsforer-med-signeringsrettighet".into()],
        };
        state
            .store
            .create_system_user(&new, &Grants::default(), &Actor::named("test"))
            .await
            .expect("created");
        let agent = owned_agent(&state.app.app, &firm, id).await.expect("agent");
        let mut planned = available_plans(&state.app.app, &agent)
            .await
            .expect("plans");
        assert_eq!(planned.len(), 2);
        // Bakeriet's plan now rests on an auditor role it never gave.
        for (candidate, plan) in &mut planned {
            if candidate.org_number == BAKERIET {
                for package in &mut plan.packages {
                    package.via = Some(ClientRelation::Role("revisor".into()));
                }
            }
        }
        let caller = Caller {
            pid: Some(systembruker_domain::PersonNumber::parse(TINA).expect("valid")),
            ..Caller::default()
        };
        let mut tally = Tally::default();
        let t = Texts::new(Language::En);
        add_batch(&state, (&caller, t), &agent, &planned, &mut tally).await;
        assert_eq!((tally.attempted, tally.added), (2, 1));
        assert_eq!(tally.failed.len(), 1);
        assert_eq!(tally.failed[0].name, "Bakeriet Brød AS");
        assert_eq!(tally.failed[0].reason, t.get("error.api.not_a_client"));
        let now = delegated_set(&state, id).await.expect("listed");
        assert_eq!(now.len(), 1);
        assert!(!now.contains(&planned[0].0.party), "Bakeriet was not added");
        // Again, with Bakeriet's plan mended: Rør og Vann is there already and not counted.
        let mended = available_plans(&state.app.app, &agent)
            .await
            .expect("plans");
        let mut tally = Tally::default();
        add_batch(&state, (&caller, t), &agent, &mended, &mut tally).await;
        assert_eq!(
            (tally.attempted, tally.added, tally.failed.len()),
            (1, 1, 0)
        );
    }
}
