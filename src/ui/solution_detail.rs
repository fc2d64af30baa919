//! The detail of the selected solution: both apps and their permissions side by side (Meta
//! says to check them before accepting: accepting cannot be undone), and what keys apply.

use ratatui::Frame;

use crate::app::keymap::{Command, key_label};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::Model;
use crate::app::solutions::Detail;
use crate::domain::solution::{SolutionIntent, action_for};
use crate::graph::model::{AppRef, SolutionAction, SolutionNode};
use crate::text::inert;
use crate::ui::Theme;

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let Some(s) = model.solutions.selected_solution() else {
        return;
    };
    let block =
        Block::bordered().title(Span::styled(format!(" {} ", inert(s.name())), theme.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    // Label and value stay together: a pair that does not fit goes to the next line whole.
    let pairs = [
        ("id ", inert(s.id()).into_owned()),
        ("state ", s.state.label().replace('_', " ")),
        ("we are ", s.role.label().to_string()),
        (
            "status ",
            format!(
                "{} / {}",
                inert(&s.node.status),
                inert(s.node.status_for_pending_request.as_deref().unwrap_or("-"))
            ),
        ),
    ];
    let mut lines: Vec<Line> = vec![];
    for (label, value) in pairs {
        let width = label.chars().count() + unicode_width::UnicodeWidthStr::width(value.as_str());
        match lines.last_mut() {
            Some(line) if line.width() + 2 + width <= usize::from(inner.width) => {
                line.push_span(Span::raw("  "));
            }
            _ => lines.push(Line::default()),
        }
        let line = lines.last_mut().expect("a line was just pushed or kept");
        line.push_span(Span::styled(label, theme.dim));
        line.push_span(Span::raw(value));
    }
    // The head takes the lines its pairs need (one at 120 columns, two at 80, more when narrower).
    let [head, sides, keys] = Layout::vertical([
        Constraint::Length(u16::try_from(lines.len()).unwrap_or(u16::MAX)),
        Constraint::Min(2),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), head);

    match model.solutions.details.get(s.id()) {
        Some(Detail::Loaded(node)) => draw_sides(frame, sides, model, node, theme),
        Some(Detail::Failed(f)) => frame.render_widget(
            Paragraph::new(format!("Could not read the detail: {}", f.sentence))
                .style(theme.error)
                .wrap(Wrap { trim: true }),
            sides,
        ),
        _ => frame.render_widget(
            Paragraph::new("Reading owner and partner permissions…").style(theme.dim),
            sides,
        ),
    }

    let mut hint = vec![];
    // The list's role and the owner app disagree: say so, offer nothing.
    let disagreement = crate::domain::partner::solution_role_disagreement(s, &model.our_app_id);
    if let Some(why) = &disagreement {
        hint.push(Span::styled(
            format!("{} No action is offered.  ", inert(why)),
            theme.error,
        ));
    }
    for (cmd, intent) in [
        (Command::Accept, SolutionIntent::Accept),
        (Command::Reject, SolutionIntent::Reject),
        (Command::Deactivate, SolutionIntent::Deactivate),
    ] {
        if disagreement.is_some() {
            break;
        }
        if let Some(action) = action_for(intent, s.state, s.role) {
            hint.push(Span::styled(format!("{} ", key_label(cmd)), theme.key));
            // The words of the key (as the list's hints say them), not Graph's edge names.
            let words = match action {
                SolutionAction::Accept => "accept",
                SolutionAction::Reject => "reject",
                SolutionAction::AcceptDeactivation => "accept deactivation",
                SolutionAction::RejectDeactivation => "reject deactivation",
                SolutionAction::SendDeactivation => "ask to deactivate",
            };
            hint.push(Span::raw(format!("{words}  ")));
        }
    }
    if hint.is_empty() {
        hint.push(Span::styled("no action applies in this state  ", theme.dim));
    }
    hint.push(Span::styled(
        format!("{} ", key_label(Command::Close)),
        theme.key,
    ));
    hint.push(Span::raw("close"));
    frame.render_widget(Paragraph::new(Line::from(hint)), keys);
}

fn app_name(app: Option<&AppRef>) -> String {
    match app {
        Some(a) => match &a.name {
            Some(n) => format!("{} ({})", inert(n), inert(&a.id)),
            None => inert(&a.id).into_owned(),
        },
        None => "unknown app".into(),
    }
}

fn draw_sides(frame: &mut Frame, area: Rect, model: &Model, node: &SolutionNode, theme: &Theme) {
    // Two columns apart: a name cut at the edge of its half does not run into the other.
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .spacing(2)
            .areas(area);
    let us = |id: &str| {
        if id == model.our_app_id {
            " — us"
        } else {
            ""
        }
    };

    let owner_id = node.owner_app.as_ref().map(|a| a.id.as_str()).unwrap_or("");
    let mut owner = vec![
        Line::from(Span::styled(format!("Owner{}", us(owner_id)), theme.header)),
        Line::from(app_name(node.owner_app.as_ref())),
    ];
    owner.extend(permission_lines(node.owner_permissions.as_deref(), theme));
    frame.render_widget(Paragraph::new(owner).wrap(Wrap { trim: true }), left);

    let mut partner = vec![];
    let partners = node.partners.as_deref().unwrap_or(&[]);
    if partners.is_empty() {
        partner.push(Line::from(Span::styled("Partner", theme.header)));
        partner.push(Line::from(Span::styled("no partner listed", theme.dim)));
    }
    for p in partners {
        let pid = p.partner_app.as_ref().map(|a| a.id.as_str()).unwrap_or("");
        partner.push(Line::from(vec![
            Span::styled(format!("Partner{}", us(pid)), theme.header),
            Span::styled(
                format!("  {}", inert(p.status.as_deref().unwrap_or("-"))),
                theme.dim,
            ),
        ]));
        partner.push(Line::from(app_name(p.partner_app.as_ref())));
        partner.extend(permission_lines(Some(&p.partner_permissions), theme));
    }
    frame.render_widget(Paragraph::new(partner).wrap(Wrap { trim: true }), right);
}

fn permission_lines<'a>(perms: Option<&[String]>, theme: &Theme) -> Vec<Line<'a>> {
    match perms {
        None => vec![Line::from(Span::styled(
            "permissions not returned",
            theme.dim,
        ))],
        Some([]) => vec![Line::from(Span::styled("no permissions", theme.dim))],
        Some(list) => list
            .iter()
            .map(|p| Line::from(format!("• {}", inert(p))))
            .collect(),
    }
}
