//! The Solutions pane's state: the fetched solutions, the lane and filter that choose the
//! visible rows, the selection, and the details read so far.

use std::collections::HashMap;

use tui_input::Input;

use crate::app::msg::{Failure, ReadStamp};
use crate::domain::solution::{Solution, SolutionState};
use crate::graph::model::{Role, SolutionNode};

use crate::app::keymap::Command;
use crate::app::model::Model;
use crate::app::msg::{Effect, Target};
use crate::app::pipeline::confirm;
use crate::domain::solution::{SolutionIntent, action_for};

/// The lanes across the top of the pane. The first three are what people triage; the rest
/// (draft, rejected, deactivated, unknown) sit behind `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lane {
    #[default]
    Pending,
    Active,
    PendingDeactivation,
    Other,
    All,
}

impl Lane {
    pub const ALL: [Lane; 5] = [
        Lane::Pending,
        Lane::Active,
        Lane::PendingDeactivation,
        Lane::Other,
        Lane::All,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Lane::Pending => "Pending",
            Lane::Active => "Active",
            Lane::PendingDeactivation => "Pending deactivation",
            Lane::Other => "Other",
            Lane::All => "All",
        }
    }

    pub fn contains(self, state: SolutionState) -> bool {
        use SolutionState as S;
        match self {
            Lane::Pending => state == S::Pending,
            Lane::Active => state == S::Active,
            Lane::PendingDeactivation => state == S::PendingDeactivation,
            Lane::Other => matches!(state, S::Draft | S::Rejected | S::Deactivated | S::Unknown),
            Lane::All => true,
        }
    }

    pub fn next(self) -> Lane {
        crate::app::list::cycle(&Lane::ALL, self, 1)
    }

    pub fn prev(self) -> Lane {
        crate::app::list::cycle(&Lane::ALL, self, -1)
    }
}

/// The order of the rows; `o` cycles, `O` reverses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SolutionSort {
    /// Grouped by state; within a state, requests that wait on us first, then Meta's order.
    #[default]
    State,
    Name,
    /// Our side: owner, then partner, then unknown.
    Role,
}

impl SolutionSort {
    pub fn next(self) -> SolutionSort {
        match self {
            SolutionSort::State => SolutionSort::Name,
            SolutionSort::Name => SolutionSort::Role,
            SolutionSort::Role => SolutionSort::State,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SolutionSort::State => "state",
            SolutionSort::Name => "name",
            SolutionSort::Role => "role",
        }
    }
}

/// What the visible rows depend on: when it is the same, the rows are too.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ViewKey {
    version: u64,
    lane: Lane,
    sort: SolutionSort,
    reverse: bool,
    needle: String,
}

/// The visible rows (indices into `items`, in order), derived when the data, lane, sort or
/// filter changes, never while drawing; and the one role they all share, if they do.
#[derive(Debug, Clone, Default)]
struct Derived {
    key: Option<ViewKey>,
    visible: std::sync::Arc<Vec<usize>>,
    one_role: Option<Role>,
}

/// What we know of one solution's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    Loading,
    Loaded(SolutionNode),
    Failed(Failure),
}

#[derive(Debug, Clone, Default)]
pub struct SolutionsPane {
    /// Every solution from the last good refresh, in Meta's order (our owned ones first).
    pub items: Vec<Solution>,
    /// Whether any refresh has succeeded yet.
    pub loaded: bool,
    pub lane: Lane,
    pub filter: Input,
    pub filter_editing: bool,
    /// Index into `visible()`.
    pub selected: usize,
    /// The first visible row (see `app::list::follow`).
    pub offset: usize,
    /// Whether the detail of the selected row is open.
    pub detail_open: bool,
    pub details: HashMap<String, Detail>,
    /// When the list shown was read.
    pub list_read: ReadStamp,
    /// Solutions established by a read that started after the list's (a detail, an action's
    /// re-read): the list does not overwrite them.
    pub newer: HashMap<String, ReadStamp>,
    pub sort: SolutionSort,
    /// `O`: the chosen order, reversed.
    pub reverse: bool,
    /// Bumped on every change to `items` (or the details the filter searches).
    version: u64,
    derived: std::cell::RefCell<Derived>,
}

impl SolutionsPane {
    fn matches_filter(&self, s: &Solution) -> bool {
        let needle = self.filter.value().trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        let partner_names = self.details.get(s.id()).and_then(|d| match d {
            Detail::Loaded(node) => Some(node),
            _ => None,
        });
        let mut haystack = format!(
            "{} {} {} {} {}",
            s.name(),
            s.id(),
            s.state.label(),
            s.role.label(),
            s.node.status
        )
        .to_lowercase();
        if let Some(node) = partner_names {
            for app in node.owner_app.iter().chain(
                node.partners
                    .iter()
                    .flatten()
                    .filter_map(|p| p.partner_app.as_ref()),
            ) {
                haystack.push(' ');
                haystack.push_str(&app.name.clone().unwrap_or_default().to_lowercase());
            }
        }
        haystack.contains(&needle)
    }

    /// The rows shown, as indices into `items`: the current lane, narrowed by the filter, in
    /// the chosen order. Derived once per change of data, lane, sort or filter.
    pub fn visible_indices(&self) -> std::sync::Arc<Vec<usize>> {
        self.derive();
        self.derived.borrow().visible.clone()
    }

    /// The role every visible row shares, if they all share one (a Role column would add
    /// nothing then).
    pub fn one_role(&self) -> Option<Role> {
        self.derive();
        self.derived.borrow().one_role
    }

    fn derive(&self) {
        let key = ViewKey {
            version: self.version,
            lane: self.lane,
            sort: self.sort,
            reverse: self.reverse,
            needle: self.filter.value().trim().to_lowercase(),
        };
        if self.derived.borrow().key.as_ref() == Some(&key) {
            return;
        }
        let mut rows: Vec<usize> = (0..self.items.len())
            .filter(|&i| {
                let s = &self.items[i];
                self.lane.contains(s.state) && self.matches_filter(s)
            })
            .collect();
        let items = &self.items;
        match self.sort {
            SolutionSort::State => rows.sort_by_key(|&i| (items[i].state, !items[i].waits_on_us())),
            SolutionSort::Name => rows.sort_by_cached_key(|&i| {
                (items[i].name().to_lowercase(), items[i].id().to_string())
            }),
            SolutionSort::Role => rows.sort_by_key(|&i| {
                let order = match items[i].role {
                    Role::Owner => 0,
                    Role::Partner => 1,
                    Role::Unknown => 2,
                };
                (order, items[i].state, !items[i].waits_on_us())
            }),
        }
        if self.reverse {
            rows.reverse();
        }
        let first = rows.first().map(|&i| items[i].role);
        let one_role = first.filter(|r| rows.iter().all(|&i| items[i].role == *r));
        *self.derived.borrow_mut() = Derived {
            key: Some(key),
            visible: std::sync::Arc::new(rows),
            one_role,
        };
    }

    /// The rows shown (see [`visible_indices`](Self::visible_indices)).
    pub fn visible(&self) -> Vec<&Solution> {
        self.visible_indices()
            .iter()
            .map(|&i| &self.items[i])
            .collect()
    }

    /// How many rows are shown.
    pub fn visible_len(&self) -> usize {
        self.visible_indices().len()
    }

    /// Next sort (`o`), or the same order reversed (`O`), keeping the selected row selected.
    pub fn resort(&mut self, reverse: bool) {
        let keep = self.selected_id();
        if reverse {
            self.reverse = !self.reverse;
        } else {
            self.sort = self.sort.next();
            self.reverse = false;
        }
        self.select_id(keep.as_deref());
    }

    pub fn lane_count(&self, lane: Lane) -> usize {
        self.items.iter().filter(|s| lane.contains(s.state)).count()
    }

    pub fn selected_solution(&self) -> Option<&Solution> {
        let v = self.visible_indices();
        v.get(self.selected).map(|&i| &self.items[i])
    }

    pub fn selected_id(&self) -> Option<String> {
        self.selected_solution().map(|s| s.id().to_string())
    }

    pub fn solution(&self, id: &str) -> Option<&Solution> {
        self.items.iter().find(|s| s.id() == id)
    }

    /// Keep the selection inside the visible rows.
    pub fn clamp_selection(&mut self) {
        let n = self.visible_len();
        self.selected = if n == 0 { 0 } else { self.selected.min(n - 1) };
    }

    /// Select the row with this id if it is visible; otherwise just clamp.
    pub fn select_id(&mut self, id: Option<&str>) {
        if let Some(id) = id
            && let Some(pos) = self
                .visible_indices()
                .iter()
                .position(|&i| self.items[i].id() == id)
        {
            self.selected = pos;
            return;
        }
        self.clamp_selection();
    }

    pub fn move_by(&mut self, delta: isize) {
        let n = self.visible_len();
        if n == 0 {
            self.selected = 0;
            return;
        }
        let target = self.selected as isize + delta;
        self.selected = target.clamp(0, n as isize - 1) as usize;
    }

    pub fn move_to_end(&mut self) {
        self.selected = self.visible_len().saturating_sub(1);
    }

    /// As of which read the solution is shown; `None` when it is not held.
    pub fn as_of(&self, id: &str) -> Option<ReadStamp> {
        self.solution(id)?;
        Some(
            self.newer
                .get(id)
                .copied()
                .unwrap_or(self.list_read)
                .max(self.list_read),
        )
    }

    /// Replace the list after a refresh that started at `started`, keeping the selected
    /// solution selected. A solution a later read established keeps that read's version.
    /// Details of solutions that disappeared are dropped.
    pub fn set_items(&mut self, items: Vec<Solution>, started: ReadStamp) {
        if started < self.list_read {
            // An older list than the one shown: it knows nothing new.
            return;
        }
        let keep = self.selected_id();
        let mut kept: HashMap<String, Solution> = self
            .items
            .iter()
            .filter(|s| self.newer.get(s.id()).is_some_and(|n| *n > started))
            .map(|s| (s.id().to_string(), s.clone()))
            .collect();
        let mut items: Vec<Solution> = items
            .into_iter()
            .map(|s| kept.remove(s.id()).unwrap_or(s))
            .collect();
        // Established later than this list started (e.g. just created): still there.
        items.extend(kept.into_values());
        self.newer.retain(|_, n| *n > started);
        self.list_read = started;
        self.details
            .retain(|id, _| items.iter().any(|s| s.id() == id));
        // The list call does not return the detail fields: carry them over.
        self.items = items
            .into_iter()
            .map(|mut s| {
                if let Some(Detail::Loaded(node)) = self.details.get(s.id()) {
                    s.node.owner_app = node.owner_app.clone();
                    s.node.owner_permissions = node.owner_permissions.clone();
                    s.node.partners = node.partners.clone();
                }
                s
            })
            .collect();
        self.loaded = true;
        self.version += 1;
        self.select_id(keep.as_deref());
    }

    /// Take in a node read by a read that started at `started` (a detail or a post-action
    /// re-read). It is applied unless what is shown was established by a later read.
    pub fn apply_node(&mut self, node: SolutionNode, started: ReadStamp) {
        if self.as_of(&node.id).is_some_and(|shown| shown > started) {
            // Keep the permissions it read if we had none; the state shown is newer.
            if !matches!(self.details.get(&node.id), Some(Detail::Loaded(_))) {
                let id = node.id.clone();
                if let Some(Solution { node: held, .. }) = self.solution(&id).cloned() {
                    let mut merged = node;
                    merged.status = held.status;
                    merged.status_for_pending_request = held.status_for_pending_request;
                    self.details.insert(id, Detail::Loaded(merged));
                    self.version += 1;
                }
            }
            return;
        }
        self.newer.insert(node.id.clone(), started);
        let keep = self.selected_id();
        if let Some(item) = self.items.iter_mut().find(|s| s.id() == node.id) {
            let role = item.role;
            *item = Solution::new(node.clone(), role);
        } else {
            self.items.push(Solution::new(node.clone(), Role::Unknown));
        }
        self.details.insert(node.id.clone(), Detail::Loaded(node));
        self.version += 1;
        self.select_id(keep.as_deref());
    }
}

// ---------------------------------------------------------------- keys

pub(crate) fn on_key(model: &mut Model, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::Close => {
            let pane = &mut model.solutions;
            if pane.detail_open {
                pane.detail_open = false;
            } else if !pane.filter.value().is_empty() {
                let keep = pane.selected_id();
                pane.filter.reset();
                pane.select_id(keep.as_deref());
            }
            vec![]
        }
        Command::Down => move_selection(model, 1),
        Command::Up => move_selection(model, -1),
        Command::PageDown => move_selection(model, model.page_rows as isize),
        Command::PageUp => move_selection(model, -(model.page_rows as isize)),
        Command::Top => {
            model.solutions.selected = 0;
            follow_detail(model)
        }
        Command::Bottom => {
            model.solutions.move_to_end();
            follow_detail(model)
        }
        Command::NextLane | Command::PrevLane => {
            let pane = &mut model.solutions;
            pane.lane = if cmd == Command::NextLane {
                pane.lane.next()
            } else {
                pane.lane.prev()
            };
            pane.selected = 0;
            follow_detail(model)
        }
        Command::Filter => {
            model.solutions.filter_editing = true;
            vec![]
        }
        Command::Open => {
            if model.solutions.selected_solution().is_none() {
                return vec![];
            }
            model.solutions.detail_open = true;
            follow_detail(model)
        }
        Command::Sort | Command::SortReverse => {
            let pane = &mut model.solutions;
            pane.resort(cmd == Command::SortReverse);
            model.notice = Some(format!(
                "Solutions sorted by {}{}.",
                pane.sort.label(),
                if pane.reverse { ", reversed" } else { "" }
            ));
            vec![]
        }
        Command::Accept => start_action(model, SolutionIntent::Accept),
        Command::Reject => start_action(model, SolutionIntent::Reject),
        Command::Deactivate => start_action(model, SolutionIntent::Deactivate),
        _ => vec![],
    }
}

fn move_selection(model: &mut Model, delta: isize) -> Vec<Effect> {
    model.solutions.move_by(delta);
    follow_detail(model)
}

/// With the detail open, it shows the selected row: fetch it when the selection lands on a
/// solution whose detail we have not read (or failed to read).
pub(crate) fn follow_detail(model: &mut Model) -> Vec<Effect> {
    let pane = &mut model.solutions;
    if !pane.detail_open {
        return vec![];
    }
    let Some(id) = pane.selected_id() else {
        return vec![];
    };
    fetch_detail(model, &id)
}

pub(crate) fn fetch_detail(model: &mut Model, id: &str) -> Vec<Effect> {
    match model.solutions.details.get(id) {
        Some(Detail::Loading) | Some(Detail::Loaded(_)) => vec![],
        _ => {
            model
                .solutions
                .details
                .insert(id.to_string(), Detail::Loading);
            vec![Effect::FetchDetail { id: id.to_string() }]
        }
    }
}

/// Why a key does nothing on this solution, in words.
fn why_not(intent: SolutionIntent, s: &Solution) -> String {
    let what = match intent {
        SolutionIntent::Accept => "Accept",
        SolutionIntent::Reject => "Reject",
        SolutionIntent::Deactivate => "Deactivation",
    };
    let rule = match intent {
        SolutionIntent::Accept | SolutionIntent::Reject => {
            "is for pending requests and pending deactivations sent to us"
        }
        _ => "can be requested only for active solutions we own",
    };
    let side = match s.role {
        Role::Owner => "we own it",
        Role::Partner => "we are the invited partner",
        Role::Unknown => "our side is unknown",
    };
    format!(
        "{what} {rule}; '{}' is {} and {side}.",
        s.name(),
        s.state.label().replace('_', " ")
    )
}

fn start_action(model: &mut Model, intent: SolutionIntent) -> Vec<Effect> {
    let Some(s) = model.solutions.selected_solution().cloned() else {
        return vec![];
    };
    // Our side comes from the list's `role`; when the detail's owner app says otherwise, no
    // action is offered (it would be the wrong side's call).
    if let Some(why) = crate::domain::partner::solution_role_disagreement(&s, &model.our_app_id) {
        model.notice = Some(format!("{why} No action is offered on it."));
        return vec![];
    }
    let Some(action) = action_for(intent, s.state, s.role) else {
        model.notice = Some(why_not(intent, &s));
        return vec![];
    };
    let what = action.edge();
    let target = Target::Solution {
        id: s.id().to_string(),
        name: s.name().to_string(),
        action,
    };
    if !confirm(model, what, target, None, None) {
        return vec![];
    }
    // The dialog shows both sides' permissions: read them if we have not.
    fetch_detail(model, s.id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sol(id: &str, name: &str, status: &str, pending: &str, role: Role) -> Solution {
        Solution::new(
            SolutionNode {
                id: id.into(),
                name: name.into(),
                status: status.into(),
                status_for_pending_request: Some(pending.into()),
                ..Default::default()
            },
            role,
        )
    }

    fn pane() -> SolutionsPane {
        let mut p = SolutionsPane::default();
        p.set_items(
            vec![
                sol(
                    "1",
                    "Alpha",
                    "INITIATED",
                    "PENDING_ACTIVATION",
                    Role::Partner,
                ),
                sol("2", "Beta", "ACTIVE", "NONE", Role::Owner),
                sol("3", "Gamma", "INITIATED", "PENDING_ACTIVATION", Role::Owner),
                sol("4", "Delta", "DRAFT", "NONE", Role::Owner),
                sol("5", "Odd", "SUSPENDED", "NONE", Role::Partner),
            ],
            ReadStamp::issue(),
        );
        p
    }

    #[test]
    fn lanes_count_and_hold_their_states() {
        let p = pane();
        assert_eq!(p.lane_count(Lane::Pending), 2);
        assert_eq!(p.lane_count(Lane::Active), 1);
        assert_eq!(p.lane_count(Lane::PendingDeactivation), 0);
        assert_eq!(
            p.lane_count(Lane::Other),
            2,
            "draft and unknown are behind Other"
        );
        assert_eq!(p.lane_count(Lane::All), 5);
    }

    #[test]
    fn filter_matches_name_and_id_case_insensitively() {
        let mut p = pane();
        p.lane = Lane::All;
        p.filter = Input::new("gAm".into());
        let v: Vec<_> = p.visible().iter().map(|s| s.id().to_string()).collect();
        assert_eq!(v, vec!["3"]);
        p.filter = Input::new("5".into());
        assert_eq!(p.visible().len(), 1);
    }

    #[test]
    fn refresh_keeps_the_selected_solution_selected() {
        let mut p = pane();
        p.lane = Lane::Pending;
        p.selected = 1; // Gamma
        let mut items = p.items.clone();
        items.insert(
            0,
            sol("9", "New", "INITIATED", "PENDING_ACTIVATION", Role::Partner),
        );
        p.set_items(items, ReadStamp::issue());
        assert_eq!(p.selected_id().as_deref(), Some("3"));
    }

    #[test]
    fn selection_stays_in_range() {
        let mut p = pane();
        p.move_by(10);
        assert_eq!(p.selected, 1);
        p.move_by(-10);
        assert_eq!(p.selected, 0);
        p.lane = Lane::PendingDeactivation;
        p.clamp_selection();
        assert!(p.selected_solution().is_none());
    }

    #[test]
    fn a_reread_moves_the_row_to_its_new_lane() {
        let mut p = pane();
        p.apply_node(
            SolutionNode {
                id: "1".into(),
                name: "Alpha".into(),
                status: "ACTIVE".into(),
                status_for_pending_request: Some("NONE".into()),
                ..Default::default()
            },
            ReadStamp::issue(),
        );
        assert_eq!(p.solution("1").unwrap().state, SolutionState::Active);
        assert_eq!(p.solution("1").unwrap().role, Role::Partner);
        assert_eq!(p.lane_count(Lane::Pending), 1);
    }
}
