//! The detail of one WABA: a summary with the onboarding checklist and why it needs
//! attention, its phone numbers (the selected one is what `R` registers), then, scrollable,
//! its health entities with their errors and possible solutions, the solutions that onboarded
//! it, the subscribed apps, and every other field Meta sent.

use chrono::{DateTime, Utc};
use ratatui::Frame;

use crate::app::keymap::{Command, key_label};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

use crate::app::Model;
use crate::app::wabas::WabaRow;
use crate::domain::onboarding::Health;
use crate::graph::waba_model::{HealthStatus, PhoneNumber};
use crate::text::inert;
use crate::ui::Theme;
use crate::ui::wabas::{age_text, field, health_span, mark};

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    model: &Model,
    row: &WabaRow,
    now: DateTime<Utc>,
    theme: &Theme,
) {
    let pane = &model.wabas;
    let n = &row.waba.node;
    let block = Block::bordered().title(Span::styled(
        format!(" {} · WABA {} ", inert(n.name()), inert(&n.id)),
        theme.title,
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let phones = row.phones();
    let phone_rows = if phones.is_empty() {
        1
    } else {
        // Header + rows, leaving the lower part some room on small screens.
        (phones.len() as u16 + 1).min((inner.height / 3).max(3))
    };
    let tp = model.tech_provider().then(|| model.registration(row.id()));
    let summary_text = summary_lines(row, tp.as_ref(), now, inner.width, theme);
    let [summary, phone_area, selected_line, lower, keys] = Layout::vertical([
        Constraint::Length(summary_text.len() as u16),
        Constraint::Length(phone_rows),
        Constraint::Length(u16::from(!phones.is_empty())),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);

    frame.render_widget(Paragraph::new(summary_text), summary);
    if phones.is_empty() {
        frame.render_widget(
            Paragraph::new("No phone number yet: the customer has not added one.")
                .style(theme.warn),
            phone_area,
        );
    } else {
        draw_phones(frame, phone_area, &phones, pane.phone_selected, theme);
        if let Some(p) = phones.get(pane.phone_selected) {
            frame.render_widget(Paragraph::new(selected_phone_line(p, theme)), selected_line);
        }
    }

    let lines = lower_lines(model, row, lower.width, theme);
    let max_scroll = lines.len().saturating_sub(lower.height as usize);
    let scroll = (pane.detail_scroll as usize).min(max_scroll) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), lower);

    // Keys named through the key map, so a remapped key is what the hint says.
    let key = |k: String, what: &'static str| {
        [
            Span::styled(k, theme.key),
            Span::styled(format!(" {what}  "), theme.dim),
        ]
    };
    let pair = |a: Command, b: Command| format!("{}/{}", key_label(a), key_label(b));
    let mut hint: Vec<Span> = vec![];
    if !phones.is_empty() {
        hint.extend(key(pair(Command::Down, Command::Up), "number"));
        // R only where it could work: a registered number, or one whose status makes
        // registering impossible, is not offered (R says why if pressed anyway).
        let registrable = pane.selected_phone().is_some_and(|p| {
            !p.is_connected()
                && p.status
                    .as_deref()
                    .and_then(crate::app::wabas::register_impossible)
                    .is_none()
        });
        if registrable && !model.read_only {
            hint.extend(key(key_label(Command::Register), "register it"));
        }
        if model.tech_provider() {
            hint.extend(key(key_label(Command::BspRegister), "with our BSP"));
        }
    }
    if row.onboarding.webhooks_subscribed != Some(true) {
        hint.extend(key(key_label(Command::Subscribe), "subscribe"));
    }
    hint.extend(key(pair(Command::PageDown, Command::PageUp), "scroll"));
    hint.extend(key(key_label(Command::Close), "close"));
    frame.render_widget(Paragraph::new(Line::from(hint)), keys);
}

/// The BSP step of a Tech Provider's checklist: registered (when, by whom), failed (why) or
/// not known, from the audit log.
fn bsp_step<'a>(reg: &crate::domain::partner::BspRegistration, theme: &Theme) -> Vec<Span<'a>> {
    use crate::domain::partner::RegistrationState;
    let bsp = reg.bsp.map_or("our BSP", |b| b.name());
    let when = reg
        .at
        .map(|t| {
            format!(
                " {}{}",
                t.format("%Y-%m-%d %H:%M UTC"),
                reg.operator
                    .as_deref()
                    .map(|o| format!(" by {}", inert(o)))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let (step, words) = match &reg.state {
        RegistrationState::Registered => (Some(true), format!(" registered with {bsp}{when}")),
        RegistrationState::Failed { reason } => (
            Some(false),
            format!(" {bsp} refused{when}: {}", inert(reason)),
        ),
        RegistrationState::Unknown if reg.at.is_some() => (
            None,
            format!(" {bsp} registration unknown (answer lost{when}; B tries again)"),
        ),
        RegistrationState::Unknown => (
            None,
            format!(" not registered with {bsp} by this console (B registers)"),
        ),
        RegistrationState::NotApplicable => (None, " no BSP".to_string()),
    };
    vec![
        Span::styled("BSP        ", theme.dim),
        mark(step, theme),
        Span::raw(words),
    ]
}

fn text<S: std::ops::Deref<Target = str>>(v: &Option<S>) -> &str {
    v.as_deref().unwrap_or("-")
}

/// Health, review, owner, money, age; the checklist; why it needs attention (wrapped).
fn summary_lines<'a>(
    row: &WabaRow,
    bsp: Option<&crate::domain::partner::BspRegistration>,
    now: DateTime<Utc>,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let n = &row.waba.node;
    let o = &row.onboarding;
    let sep = || Span::styled(" · ", theme.dim);
    let mut health = vec![
        Span::styled("Health ", theme.dim),
        health_span(&row.health, theme),
    ];
    health.push(sep());
    health.extend(field(
        "review",
        text(&n.account_review_status()),
        theme,
        theme.text,
    ));
    health.push(sep());
    health.extend(field(
        "verification",
        text(&n.business_verification_status()),
        theme,
        theme.text,
    ));

    let owner = match &n.owner_business_info() {
        Some(b) => match &b.name {
            Some(name) => format!("{name} ({})", b.id),
            None => b.id.to_string(),
        },
        None => "-".into(),
    };

    let created = match n
        .creation_time()
        .and_then(|t| DateTime::from_timestamp(t, 0))
    {
        Some(t) => format!(
            "{} ({} ago)",
            t.format("%Y-%m-%d"),
            age_text(n.creation_time(), now)
        ),
        None => "-".into(),
    };
    let funding = n.funding_id();
    let mut money = field("Currency", text(&n.currency()), theme, theme.text);
    money.push(sep());
    money.extend(field(
        "funding",
        funding.unwrap_or("none"),
        theme,
        theme.text,
    ));
    money.push(sep());
    money.extend(field("created", &created, theme, theme.text));

    let phones = row.phones();
    let registered = phones.iter().filter(|p| p.is_connected()).count();
    let checklist = vec![
        Span::styled("Onboarding ", theme.dim),
        mark(o.webhooks_subscribed, theme),
        Span::raw(match o.webhooks_subscribed {
            Some(true) => " webhooks  ",
            Some(false) => " webhooks not subscribed  ",
            None => " webhooks unknown  ",
        }),
        mark(o.credit_shared, theme),
        Span::raw(match (funding.is_some(), o.credit_shared) {
            // A Tech Provider owns no credit: the step is "funded" by anyone's.
            _ if bsp.is_some() && funding.is_some() => " funded  ",
            _ if bsp.is_some() => " not funded  ",
            (true, Some(false)) => " credit not ours  ",
            (true, _) => " credit line  ",
            (false, _) => " no credit line  ",
        }),
        mark(o.phones_registered, theme),
        Span::raw(format!(
            " {registered} of {} numbers registered",
            phones.len()
        )),
    ];

    // The messaging limit is the business portfolio's (reference §3.2), always shown here.
    let mut limit = field(
        "Messaging limit",
        row.tier().as_deref().unwrap_or("not sent"),
        theme,
        if row.tier_dropped_from.is_some() {
            theme.attention
        } else {
            theme.text
        },
    );
    if let Some(was) = &row.tier_dropped_from {
        limit.push(Span::styled(
            format!(" (dropped from {})", inert(was)),
            theme.attention,
        ));
    }
    let mut lines = vec![
        Line::from(health),
        Line::from(limit),
        Line::from(field("Owner", &owner, theme, theme.text)),
        Line::from(money),
        Line::from(checklist),
    ];
    if let Some(reg) = bsp {
        lines.push(Line::from(bsp_step(reg, theme)));
    }
    let reasons = row.attention_reasons();
    if reasons.is_empty() {
        lines.push(Line::from(Span::styled(
            "Nothing needs attention.",
            theme.ok,
        )));
    } else {
        lines.extend(wrapped(
            "! Needs attention: ",
            &reasons.join("; "),
            width,
            theme.attention,
            theme.attention,
        ));
    }
    lines
}

fn draw_phones(
    frame: &mut Frame,
    area: Rect,
    phones: &[PhoneNumber],
    selected: usize,
    theme: &Theme,
) {
    let wide = area.width >= 100;
    let rows: Vec<Row> = phones
        .iter()
        .map(|p| {
            let t = |v: Option<&str>| inert(v.unwrap_or("-")).into_owned();
            let status_style = if p.is_connected() {
                theme.ok
            } else {
                theme.attention
            };
            let mut cells = vec![
                Cell::from(inert(p.label()).into_owned()),
                Cell::from(t(p.verified_name.as_deref())),
                Cell::from(t(p.quality_rating.as_deref())),
                Cell::from(Span::styled(t(p.status.as_deref()), status_style)),
                Cell::from(t(p.name_status.as_deref())),
                Cell::from(inert(p.throughput_level().unwrap_or("-")).into_owned()),
            ];
            if wide {
                cells.push(Cell::from(t(p.platform_type.as_deref())));
                cells.push(Cell::from(health_span(&phone_health(p), theme)));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec![
        "Number",
        "Name",
        "Quality",
        "Status",
        "Name status",
        "Thrpt",
    ];
    let mut widths = vec![
        Constraint::Length(17),
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Length(14),
        Constraint::Length(8),
    ];
    if wide {
        header.extend(["Platform", "Health"]);
        widths.extend([Constraint::Length(14), Constraint::Length(9)]);
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.header))
        .column_spacing(1)
        .highlight_symbol("▶ ")
        .row_highlight_style(theme.selected);
    let mut state = TableState::default().with_selected(Some(selected.min(phones.len() - 1)));
    frame.render_stateful_widget(table, area, &mut state);
}

fn phone_health(p: &PhoneNumber) -> Health {
    Health::of(
        p.health_status
            .as_ref()
            .and_then(|h| h.can_send_message.as_deref()),
    )
}

/// The selected number's remaining fields, on one line under the table.
fn selected_phone_line<'a>(p: &PhoneNumber, theme: &Theme) -> Line<'a> {
    let mut spans = vec![
        Span::styled("▶ ", theme.key),
        Span::raw(inert(&p.id).into_owned()),
    ];
    spans.push(Span::styled(" · ", theme.dim));
    spans.extend(field(
        "code",
        text(&p.code_verification_status),
        theme,
        theme.text,
    ));
    spans.push(Span::styled(" · ", theme.dim));
    spans.extend(field("platform", text(&p.platform_type), theme, theme.text));
    spans.push(Span::styled(" · health ", theme.dim));
    spans.push(health_span(&phone_health(p), theme));
    Line::from(spans)
}

/// `text` broken into lines of at most `width` columns, the first after `first`, the rest
/// indented like it.
fn wrapped<'a>(first: &str, text: &str, width: u16, style: Style, lead: Style) -> Vec<Line<'a>> {
    let indent = first.width();
    let room = (width as usize).saturating_sub(indent).max(10);
    let mut lines = vec![];
    let mut current = String::new();
    for word in inert(text).split_whitespace() {
        if !current.is_empty() && current.width() + 1 + word.width() > room {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let head = if i == 0 {
                first.to_string()
            } else {
                " ".repeat(indent)
            };
            Line::from(vec![Span::styled(head, lead), Span::styled(l, style)])
        })
        .collect()
}

fn health_lines<'a>(h: Option<&HealthStatus>, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let Some(h) = h else {
        return vec![Line::from(Span::styled(
            "  Meta did not return health_status.",
            theme.warn,
        ))];
    };
    let mut out = vec![];
    let mut quiet = vec![];
    for e in h.entities.iter() {
        let health = Health::of(e.can_send_message.as_deref());
        let kind = inert(e.entity_type.as_deref().unwrap_or("ENTITY")).into_owned();
        if health == Health::Available && e.errors().is_empty() && e.additional_info().is_empty() {
            quiet.push(kind);
            continue;
        }
        out.push(Line::from(vec![
            Span::raw(format!("  {kind} {} ", inert(&e.id))),
            health_span(&health, theme),
        ]));
        for info in e.additional_info() {
            out.extend(wrapped("    · ", info, width, theme.text, theme.dim));
        }
        for err in e.errors() {
            let code = err
                .error_code
                .map(|c| format!("error {c}: "))
                .unwrap_or_else(|| "error: ".into());
            out.extend(wrapped(
                &format!("    {code}"),
                err.error_description
                    .as_deref()
                    .unwrap_or("(no description)"),
                width,
                theme.text,
                theme.error,
            ));
            if let Some(fix) = &err.possible_solution {
                out.extend(wrapped("      fix: ", fix, width, theme.text, theme.key));
            }
        }
    }
    if !quiet.is_empty() {
        out.push(Line::from(Span::styled(
            format!("  AVAILABLE: {}", quiet.join(", ")),
            theme.dim,
        )));
    }
    if out.is_empty() {
        out.push(Line::from(Span::styled("  no entities listed", theme.dim)));
    }
    out
}

fn lower_lines<'a>(model: &Model, row: &WabaRow, width: u16, theme: &Theme) -> Vec<Line<'a>> {
    let w = &row.waba;
    let heading = |t: &'static str| Line::from(Span::styled(t, theme.header));
    let mut lines = vec![heading("Health")];
    lines.extend(health_lines(w.node.health_status().as_ref(), width, theme));

    lines.push(heading("Solutions that onboarded it"));
    match &w.solutions {
        None => lines.push(Line::from(Span::styled("  could not be read", theme.warn))),
        Some(list) if list.is_empty() => {
            lines.push(Line::from(Span::styled("  none listed", theme.dim)))
        }
        // The derived state (ACTIVE + PENDING_DEACTIVATION reads "pending deactivation"), with
        // Meta's raw values when the pair is not one we know.
        Some(list) => lines.extend(list.iter().map(|s| {
            let state = crate::domain::solution::SolutionState::derive(
                &s.status,
                s.status_for_pending_request.as_deref(),
            );
            let state = match state {
                crate::domain::solution::SolutionState::Unknown => format!(
                    "unknown ({}/{})",
                    s.status,
                    s.status_for_pending_request.as_deref().unwrap_or("-")
                ),
                st => st.label().replace('_', " "),
            };
            Line::from(format!(
                "  {} ({}) {}",
                inert(&s.name),
                inert(&s.id),
                inert(&state)
            ))
        })),
    }

    lines.push(heading("Subscribed apps"));
    match &w.subscribed_apps {
        None => lines.push(Line::from(Span::styled("  could not be read", theme.warn))),
        Some(list) if list.is_empty() => lines.push(Line::from(Span::styled(
            "  none: no app receives this WABA's webhooks (s subscribes ours)",
            theme.attention,
        ))),
        Some(list) => lines.extend(list.iter().map(|a| {
            let app = a.whatsapp_business_api_data.clone().unwrap_or_default();
            let us = if app.id == model.our_app_id {
                " — us"
            } else {
                ""
            };
            Line::from(format!(
                "  {} ({}){us}",
                inert(app.name.as_deref().unwrap_or("unnamed app")),
                inert(&app.id)
            ))
        })),
    }

    lines.push(heading("Other fields"));
    let fields = w.node.other_fields();
    if fields.is_empty() {
        lines.push(Line::from(Span::styled("  none", theme.dim)));
    }
    let mut extra: Vec<(&String, &Value)> = fields.iter().collect();
    extra.sort_by_key(|(k, _)| k.as_str());
    for (k, v) in extra {
        let value = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        lines.extend(wrapped(
            &format!("  {k}: "),
            &value,
            width,
            theme.text,
            theme.dim,
        ));
    }
    lines
}
