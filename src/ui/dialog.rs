//! The confirm dialogs (each names the object, its id and the exact call; the register one
//! takes the PIN in a masked field) and the dialog that reports what came of an action.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::Model;
use crate::app::model::Confirm;
use crate::app::msg::{ActionOutcome, ActionResult, Target};
use crate::app::pipeline::outcome_summary;
use crate::app::solutions::Detail;
use crate::graph::model::{SolutionAction, SolutionNode};
use crate::graph::waba_model::Pin;
use crate::text::inert;
use crate::ui::{Theme, centered};

fn consequence(action: SolutionAction) -> &'static str {
    match action {
        SolutionAction::Accept => {
            "Accepting cannot be undone: each side gets the permissions above on every customer onboarded through this solution."
        }
        SolutionAction::Reject => "The request becomes rejected; the owner sees it as inactive.",
        SolutionAction::SendDeactivation => {
            "The partner must accept the deactivation; until then the solution stays usable."
        }
        SolutionAction::AcceptDeactivation => {
            "The solution becomes deactivated and can no longer onboard customers."
        }
        SolutionAction::RejectDeactivation => "The solution stays active.",
    }
}

fn permissions_line<'a>(node: &SolutionNode, theme: &Theme) -> Vec<Line<'a>> {
    let join = |p: &[String]| {
        if p.is_empty() {
            "none".to_string()
        } else {
            p.iter()
                .map(|x| inert(x).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let mut out = vec![Line::from(vec![
        Span::styled("Owner gets:   ", theme.dim),
        Span::raw(join(node.owner_permissions.as_deref().unwrap_or(&[]))),
    ])];
    for p in node.partners.as_deref().unwrap_or(&[]) {
        out.push(Line::from(vec![
            Span::styled("Partner gets: ", theme.dim),
            Span::raw(join(&p.partner_permissions)),
        ]));
    }
    out
}

pub fn draw_confirm(frame: &mut Frame, area: Rect, model: &Model, c: &Confirm, theme: &Theme) {
    let (title, mut lines) = match &c.target {
        Target::Solution { id, name, action } => (
            format!(" {} solution? ", action.verb()),
            solution_lines(model, c, id, name, *action, theme),
        ),
        Target::SubscribeApp { waba_id, waba_name } => (
            " Subscribe our app to this WABA? ".to_string(),
            vec![
                Line::from(vec![
                    Span::styled(format!("'{}'", inert(waba_name)), theme.title),
                    Span::styled(format!("  WABA {}", inert(waba_id)), theme.dim),
                ]),
                sends(c, theme),
                Line::default(),
                Line::from(Span::styled(
                    "Our app starts receiving this WABA's webhooks (messages, statuses, account updates). It can be undone with DELETE on the same edge.",
                    theme.warn,
                )),
            ],
        ),
        Target::RegisterPhone {
            waba_name,
            phone_id,
            phone,
            ..
        } => (
            " Register this number for Cloud API? ".to_string(),
            register_lines(c, waba_name, phone_id, phone, theme),
        ),
        Target::ShareCredit { .. } => (
            " Share a credit line with this WABA? ".to_string(),
            share_lines(c, theme),
        ),
        Target::RevokeAllocation { .. } => (
            " Revoke this credit allocation? ".to_string(),
            revoke_lines(model, c, theme),
        ),
        Target::BspRegister {
            bsp,
            waba_name,
            phone,
            registration,
        } => (
            format!(" Register this number with {}? ", bsp.name()),
            vec![
                named("BSP", bsp.name(), None, theme),
                named("WABA", waba_name, Some(&registration.waba_id), theme),
                named("Number", phone, Some(&registration.phone_number_id), theme),
                named("Business", &registration.business_id, None, theme),
                sends(c, theme),
                Line::default(),
                Line::from(Span::styled(
                    format!(
                        "Sent once; {} registers the number with Meta itself. Its answer is the only record: the console keeps it in the audit log.",
                        bsp.name()
                    ),
                    theme.warn,
                )),
            ],
        ),
    };
    lines.push(Line::default());
    let answer_lost = model
        .in_flight
        .as_ref()
        .is_some_and(|f| f.target == c.target && f.answer_lost);
    if c.sending && answer_lost {
        lines.push(Line::from(Span::styled(
            "Outcome unknown — the answer was lost; re-reading to see what happened (not sent again)…",
            theme.warn,
        )));
    } else if c.sending {
        lines.push(Line::from(Span::styled(
            "Sending once… then re-reading to verify. (Esc hides this; the result will show.)",
            theme.attention,
        )));
    } else if c.pin.is_some() {
        lines.push(Line::from(vec![
            Span::styled("Enter", theme.key),
            Span::raw(" send   "),
            Span::styled("Backspace", theme.key),
            Span::raw(" erase   "),
            Span::styled("Esc", theme.key),
            Span::raw(" cancel"),
        ]));
    } else {
        lines.push(Line::from(vec![
            Span::styled("y", theme.key),
            Span::raw(" send   "),
            Span::styled("n", theme.key),
            Span::raw(" / "),
            Span::styled("Esc", theme.key),
            Span::raw(" cancel"),
        ]));
    }
    let height = match c.target {
        Target::ShareCredit { .. } => 16,
        Target::RevokeAllocation { .. } => 14,
        _ => 14,
    };
    let popup = centered(area, 72, height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Span::styled(title, theme.title))),
        popup,
    );
}

fn sends<'a>(c: &Confirm, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled("Sends: ", theme.dim),
        Span::styled(c.call.clone(), theme.key),
    ])
}

fn solution_lines<'a>(
    model: &Model,
    c: &Confirm,
    id: &str,
    name: &str,
    action: SolutionAction,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("'{}'", inert(name)), theme.title),
            Span::styled(format!("  id {}", inert(id)), theme.dim),
        ]),
        sends(c, theme),
        Line::default(),
    ];
    match model.solutions.details.get(id) {
        Some(Detail::Loaded(node)) => lines.extend(permissions_line(node, theme)),
        Some(Detail::Failed(f)) => lines.push(Line::from(Span::styled(
            format!("Permissions could not be read: {}", f.sentence),
            theme.warn,
        ))),
        _ => lines.push(Line::from(Span::styled("Reading permissions…", theme.dim))),
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(consequence(action), theme.warn)));
    lines
}

/// `Label        value  id`, for the credit dialogs.
fn named<'a>(label: &str, name: &str, id: Option<&str>, theme: &Theme) -> Line<'a> {
    let mut spans = vec![
        Span::styled(format!("{label:<13}"), theme.dim),
        Span::styled(inert(name).into_owned(), theme.title),
    ];
    if let Some(id) = id.filter(|i| *i != name) {
        spans.push(Span::styled(format!("  {}", inert(id)), theme.dim));
    }
    Line::from(spans)
}

/// The share dialog: the line (↑/↓ picks another when there are several), the customer
/// business, the WABA, the currency (←/→ among Meta's), the exact call, and what cannot be
/// undone.
fn share_lines<'a>(c: &Confirm, theme: &Theme) -> Vec<Line<'a>> {
    let Target::ShareCredit {
        credit_line_id,
        credit_line_name,
        waba_id,
        waba_name,
        business_id,
        business_name,
        currency,
    } = &c.target
    else {
        return vec![];
    };
    let mut line = named("Credit line", credit_line_name, Some(credit_line_id), theme);
    let choice = c.share.as_ref();
    if choice.is_some_and(|s| s.lines.len() > 1) && !c.sending {
        line.spans.push(Span::styled("  ↑↓", theme.key));
        line.spans.push(Span::styled(" other line", theme.dim));
    }
    let mut money = vec![
        Span::styled(format!("{:<13}", "Currency"), theme.dim),
        Span::styled(format!("‹ {currency} ›"), theme.title),
    ];
    if !c.sending {
        money.push(Span::styled("  ←→", theme.key));
        money.push(Span::styled(" change", theme.dim));
    }
    match choice.and_then(|s| s.waba_currency.as_deref()) {
        Some(own) if own.eq_ignore_ascii_case(currency) => {
            money.push(Span::styled("  (the WABA's own)", theme.dim));
        }
        Some(own) => money.push(Span::styled(
            format!("  (the WABA bills in {})", inert(own)),
            theme.warn,
        )),
        None => {}
    }
    vec![
        line,
        named("Customer", business_name, business_id.as_deref(), theme),
        named("WABA", waba_name, Some(waba_id), theme),
        Line::from(money),
        sends(c, theme),
        Line::default(),
        Line::from(Span::styled(
            "A credit line cannot be changed once it is attached: another line later needs a new WABA. Sent once: if the answer is lost, the console re-reads and never sends it again.",
            theme.warn,
        )),
    ]
}

/// The revoke dialog: the customer business, the line, the allocation, the exact call, and
/// plainly, that it covers every WABA of that business shared with us.
fn revoke_lines<'a>(model: &Model, c: &Confirm, theme: &Theme) -> Vec<Line<'a>> {
    let Target::RevokeAllocation {
        allocation_id,
        credit_line_id,
        credit_line_name,
        business_id,
        business_name,
        waba_ids,
    } = &c.target
    else {
        return vec![];
    };
    let names: Vec<String> = waba_ids
        .iter()
        .map(|id| {
            model
                .wabas
                .row(id)
                .map_or_else(|| id.clone(), |r| format!("'{}'", inert(r.waba.name())))
        })
        .collect();
    let covered = match names.len() {
        0 => "no WABA we can see now".to_string(),
        1 => format!("1 WABA: {}", names[0]),
        n if n <= 3 => format!("{n} WABAs: {}", names.join(", ")),
        n => format!("{n} WABAs: {}, and {} more", names[..2].join(", "), n - 2),
    };
    vec![
        named("Customer", business_name, business_id.as_deref(), theme),
        named("Credit line", credit_line_name, Some(credit_line_id), theme),
        named("Allocation", allocation_id, None, theme),
        named("WABAs", &covered, None, theme),
        sends(c, theme),
        Line::default(),
        Line::from(Span::styled(
            format!(
                "The revoke covers every WABA of {} shared with us, not only one: none of them is funded by our credit line any more. Afterwards the allocation reads request_status DELETED.",
                inert(business_name)
            ),
            theme.warn,
        )),
    ]
}

/// The PIN is shown as bullets only, with a place for each digit still to type.
fn register_lines<'a>(
    c: &Confirm,
    waba_name: &str,
    phone_id: &str,
    phone: &str,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(inert(phone).into_owned(), theme.title),
            Span::styled(
                format!("  id {}  of '{}'", inert(phone_id), inert(waba_name)),
                theme.dim,
            ),
        ]),
        sends(c, theme),
        Line::from(Span::styled(
            "with messaging_product whatsapp and the PIN in the body",
            theme.dim,
        )),
        Line::default(),
    ];
    if let Some(field) = &c.pin {
        let typed = field.input.value().chars().count().min(Pin::LEN);
        let mask: String = "•".repeat(typed) + &"_".repeat(Pin::LEN - typed);
        lines.push(Line::from(vec![
            Span::styled("PIN: ", theme.key),
            Span::styled(mask, theme.title),
            Span::styled("  (6 digits)", theme.dim),
        ]));
    }
    lines.push(Line::from(Span::styled(
        "The number's two-step verification PIN: sent once, never shown, logged or kept.",
        theme.warn,
    )));
    lines
}

pub fn draw_outcome(
    frame: &mut Frame,
    area: Rect,
    model: &Model,
    o: &ActionOutcome,
    theme: &Theme,
) {
    let (title, style) = match &o.result {
        ActionResult::Verified { .. } => (" Done ", theme.ok),
        ActionResult::Failed { .. } | ActionResult::NotSent { .. } => (" Not done ", theme.error),
        ActionResult::Unexpected { .. } | ActionResult::Unverified { .. } => {
            (" Check this ", theme.warn)
        }
        ActionResult::OutcomeUnknown { .. } => (" Outcome was unknown ", theme.warn),
    };
    let mut lines = vec![
        Line::from(Span::styled(
            inert(&outcome_summary(o, &model.our_app_id)).into_owned(),
            style,
        )),
        Line::default(),
    ];
    match &o.audit {
        Ok(path) => lines.push(Line::from(vec![
            Span::styled("Audit log: ", theme.dim),
            Span::raw(inert(path).into_owned()),
        ])),
        Err(e) => lines.push(Line::from(Span::styled(
            format!("The audit log could not be written: {}", inert(e)),
            theme.error,
        ))),
    }
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled("Enter", theme.key),
        Span::raw(" / "),
        Span::styled("Esc", theme.key),
        Span::raw(" close"),
    ]));
    // Room for a summary of up to three lines and an audit path of two.
    let popup = centered(area, 72, 11);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Span::styled(title, theme.title))),
        popup,
    );
}
