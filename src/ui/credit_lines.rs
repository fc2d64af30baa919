//! The Credit lines pane: a summary of every allocation's check, then each credit line with
//! its allocations (problems first), then the WABAs with no credit of ours; or the detail of
//! the selected row. Verification is always said in a word and a symbol, never colour alone.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use serde_json::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::app::Model;
use crate::app::credit_lines::{CreditLane, CreditRow, CreditView, LineCounts};
use crate::app::keymap::{Command, key_label};
use crate::app::list::follow;
use crate::domain::funding::{CheckSummary, NotFunded, Verification};
use crate::text::inert;
use crate::ui::{Theme, draw_filter};

/// From this width on, rows also show the allocation id and the WABAs' names.
const WIDE: u16 = 110;

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let pane = &model.credit;
    let block = |title: &str| Block::bordered().title(Span::styled(title.to_string(), theme.title));
    if pane.not_configured {
        let text = "No business id is set, so our credit lines are not listed. Give our business \
                    portfolio's id with --business-id ID, PARTNERDECK_BUSINESS_ID, or business_id \
                    in the config file (or name one credit line with --credit-line-id ID, \
                    PARTNERDECK_CREDIT_LINE_ID, credit_line_id).";
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.warn)
                .wrap(Wrap { trim: true })
                .block(block(" Credit lines ")),
            area,
        );
        return;
    }
    if model.tech_provider() {
        draw_tech_provider(frame, area, model, theme);
        return;
    }
    if pane.lines.is_empty() {
        let text = if pane.loaded {
            "Our business has no credit line (extendedcredits is empty): nothing to share."
        } else {
            "Loading credit lines…"
        };
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.dim)
                .block(block(" Credit lines ")),
            area,
        );
        return;
    }
    let view = pane.view(&model.wabas);
    let show_filter = pane.filter_editing || !pane.filter.value().is_empty();
    let [summary, filter, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(show_filter)),
        Constraint::Min(3),
    ])
    .areas(area);
    draw_lanes(frame, summary, model, &view, theme);
    draw_filter(frame, filter, &pane.filter, pane.filter_editing, theme);
    let selected = pane.selected_row(&view);
    match selected {
        Some(row) if pane.detail_open => draw_detail(frame, rest, model, &view, &row, theme),
        _ => draw_rows(frame, rest, model, &view, theme),
    }
}

/// `2 lines · 78 allocations ✓40 ✗5 mismatched ?20 –13 revoked · 61 not funded`.
/// As a Tech Provider the pane is empty by nature: one sentence why, then the WABAs nobody
/// funds, each with the solution (and so the Solution Partner) that onboarded it.
fn draw_tech_provider(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let mut lines = vec![
        Line::from(Span::styled(
            "We are a Tech Provider: we own no credit line, so there is nothing of ours to share; our customers' WABAs are funded by the credit line of the Solution Partner (the BSP) that onboarded them.",
            theme.dim,
        )),
        Line::default(),
    ];
    if !model.wabas.loaded {
        lines.push(Line::from(Span::styled("Loading client WABAs…", theme.dim)));
    } else {
        let unfunded = crate::domain::partner::unfunded_wabas(
            model.wabas.rows.iter().map(|r| &*r.waba),
            &model.solutions.items,
            &model.our_app_id,
        );
        if unfunded.is_empty() {
            lines.push(Line::from(Span::styled(
                "Every client WABA is funded.",
                theme.ok,
            )));
        } else {
            lines.push(Line::from(Span::styled(
                format!(
                    "{} WABA{} with no funding at all (cannot send paid messages); the Solution Partner named should attach its credit:",
                    unfunded.len(),
                    if unfunded.len() == 1 { "" } else { "s" }
                ),
                theme.warn,
            )));
            for u in &unfunded {
                lines.push(Line::from(vec![
                    Span::styled("✗ ", theme.error),
                    Span::raw(inert(&u.sentence()).into_owned()),
                ]));
            }
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(Span::styled(
                " Credit lines · Tech Provider ".to_string(),
                theme.title,
            ))),
        area,
    );
}

/// The lanes with their counts (`n of m` while a filter narrows the lane shown), then every
/// allocation's check in symbols, then the sort.
fn draw_lanes(frame: &mut Frame, area: Rect, model: &Model, view: &CreditView, theme: &Theme) {
    let pane = &model.credit;
    let filtered = !pane.filter.value().trim().is_empty();
    let mut spans = vec![];
    for (i, lane) in CreditLane::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" │ ", theme.dim));
        }
        let count = pane.lane_count(view, *lane);
        let matching = view.matching[i];
        let text = match count {
            None if *lane == CreditLane::NotFunded && model.wabas.not_configured => {
                "no business id".to_string()
            }
            None => "…".to_string(),
            Some(n) => super::solutions::lane_count_text(
                true,
                n,
                (*lane == pane.lane && filtered).then_some(matching),
            ),
        };
        let style = if *lane == pane.lane {
            theme.tab_active
        } else if *lane == CreditLane::NotFunded && count.is_some_and(|n| n > 0) {
            theme.attention
        } else {
            theme.text
        };
        spans.push(Span::styled(format!("{} {text}", lane.title()), style));
    }
    spans.push(Span::styled("  · ", theme.dim));
    let total = view.total();
    if area.width >= WIDE {
        spans.extend(count_spans(&total, theme));
    } else {
        // Symbols only: the rows say each one in a word.
        spans.push(Span::styled(
            format!(
                "✓{} ✗{} ?{} –{}",
                total.verified, total.mismatched, total.unknown, total.revoked
            ),
            if total.mismatched > 0 {
                theme.error
            } else {
                theme.dim
            },
        ));
    }
    spans.push(Span::styled("  · ", theme.dim));
    spans.push(Span::styled(key_label(Command::Sort), theme.key));
    spans.push(Span::styled(
        format!(
            " sort: {}{}",
            pane.sort.label(pane.lane),
            if pane.reverse { " ↑" } else { "" }
        ),
        theme.dim,
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `✓12 ✗2 mismatched ?1 –3 revoked`: words where they matter, symbols elsewhere (the
/// legend names them all).
fn count_spans<'a>(c: &LineCounts, theme: &Theme) -> Vec<Span<'a>> {
    let mismatch = if c.mismatched > 0 {
        theme.error
    } else {
        theme.dim
    };
    vec![
        Span::styled(format!("✓{}", c.verified), theme.ok),
        Span::styled(format!(" ✗{} mismatched", c.mismatched), mismatch),
        Span::styled(format!(" ?{}", c.unknown), theme.warn),
        Span::styled(format!(" –{} revoked", c.revoked), theme.dim),
    ]
}

/// `s` cut or padded to `width` cells (an ellipsis marks a cut).
fn fit(s: &str, width: usize) -> String {
    let s = inert(s);
    let w = s.width();
    if w <= width {
        return format!("{s}{}", " ".repeat(width - w));
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > width {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    used += 1;
    out + &" ".repeat(width.saturating_sub(used))
}

fn check_style(v: Verification, theme: &Theme) -> Style {
    match v {
        Verification::Verified => theme.ok,
        Verification::Mismatched => theme.error,
        Verification::Unknown => theme.warn,
        Verification::Revoked => theme.dim,
    }
}

/// `✗ mismatched`, 12 cells.
fn check_text(v: Verification) -> String {
    format!("{} {:<10}", v.symbol(), v.label())
}

/// Column widths of an allocation row: (business, wabas) for the space left.
fn widths(inner: usize, wide: bool) -> (usize, usize) {
    // indent 2, check 12, spaces, status 8, credential 16 (+ allocation 16 when wide).
    let fixed = if wide {
        2 + 12 + 16 + 16 + 8 + 5
    } else {
        2 + 12 + 5 + 8 + 16 + 4
    };
    let left = inner.saturating_sub(fixed);
    if wide {
        let business = (left * 3 / 5).max(10);
        (business, left.saturating_sub(business))
    } else {
        (left.max(8), 5)
    }
}

/// The widths of a not-funded row: (name, owner, reason); owner only when wide.
fn not_funded_widths(inner: usize, wide: bool) -> (usize, usize, usize) {
    let reason_w = if wide { 34 } else { 24 };
    let fixed = 2 + 16 + 4 + reason_w + 3;
    let left = inner.saturating_sub(fixed);
    if wide {
        (left / 2, left - left / 2 - 1, reason_w)
    } else {
        (left, 0, reason_w)
    }
}

fn header_line<'a>(lane: CreditLane, inner: usize, wide: bool, theme: &Theme) -> Line<'a> {
    if lane == CreditLane::NotFunded {
        let (name_w, owner_w, reason_w) = not_funded_widths(inner, wide);
        let mut text = format!("  {} ", fit("WABA", name_w));
        if wide {
            text.push_str(&format!("{} ", fit("Customer business", owner_w)));
        }
        text.push_str(&format!(
            "{} {} {}",
            fit("ID", 16),
            fit("Cur", 3),
            fit("Why not funded", reason_w)
        ));
        return Line::from(Span::styled(text, theme.header));
    }
    let (b, w) = widths(inner, wide);
    let text = if wide {
        format!(
            "  {} {} {} {} {} {}",
            fit("Check", 12),
            fit("Customer business", b),
            fit("Allocation", 16),
            fit("Credential", 16),
            fit("Status", 8),
            fit("WABAs using it", w)
        )
    } else {
        format!(
            "  {} {} {} {} {}",
            fit("Check", 12),
            fit("Customer business", b),
            fit("WABAs", 5),
            fit("Status", 8),
            fit("Credential", 16)
        )
    };
    Line::from(Span::styled(text, theme.header))
}

/// One row. The selected one starts with `›` (and is reversed), so it shows without colour.
fn row_line<'a>(
    model: &Model,
    view: &CreditView,
    row: &CreditRow,
    selected: bool,
    inner: usize,
    wide: bool,
    theme: &Theme,
) -> Line<'a> {
    let pane = &model.credit;
    let (head, lead) = if selected {
        ("›", "› ")
    } else {
        ("▌", "  ")
    };
    match row {
        CreditRow::Line { line } => {
            let Some(data) = pane.lines.get(*line as usize) else {
                return Line::default();
            };
            let counts = view.counts.get(*line as usize).copied().unwrap_or_default();
            let plural = if counts.allocations == 1 { "" } else { "s" };
            let counts_text = format!(
                "{} allocation{plural} ✓{} ✗{} ?{} –{}",
                counts.allocations,
                counts.verified,
                counts.mismatched,
                counts.unknown,
                counts.revoked
            );
            let name = inert(data.line.name());
            // The id only where it fits beside the name and the counts.
            let id = if wide || name.width() + data.line.id.len() + counts_text.len() + 8 <= inner {
                format!(" · {} · ", inert(&data.line.id))
            } else {
                " · ".to_string()
            };
            let mut spans = vec![
                Span::styled(format!("{head}{name}"), theme.title),
                Span::styled(id, theme.dim),
            ];
            if data.line.extra.get("is_access_revoked") == Some(&Value::Bool(true)) {
                spans.push(Span::styled("ACCESS REVOKED · ", theme.error));
            }
            if let Some(money) = credit_available(&data.line.extra) {
                spans.push(Span::styled(format!("{money} available · "), theme.ok));
            }
            if wide {
                spans.push(Span::styled(
                    format!("{} allocation{plural} ", counts.allocations),
                    theme.text,
                ));
                spans.extend(count_spans(&counts, theme));
            } else {
                spans.push(Span::styled(counts_text, theme.text));
            }
            Line::from(spans)
        }
        CreditRow::Allocation { line, alloc, check } => {
            let Some(a) = pane.allocation(*line, *alloc) else {
                return Line::default();
            };
            let (b, w) = widths(inner, wide);
            let status = a.request_status.as_deref().unwrap_or("-");
            let credential = a.credential_id().unwrap_or("-");
            let mut spans = vec![
                Span::raw(lead),
                Span::styled(
                    check_text(check.verification),
                    check_style(check.verification, theme),
                ),
                Span::raw(" "),
                Span::raw(match a.malformed.as_deref() {
                    Some(m) => fit(&m.label(), b),
                    None => fit_name(a.business_name(), b),
                }),
                Span::raw(" "),
            ];
            if wide {
                spans.push(Span::styled(fit(&a.id, 16), theme.dim));
                spans.push(Span::raw(" "));
                spans.push(Span::raw(fit(credential, 16)));
                spans.push(Span::raw(" "));
                spans.push(Span::raw(fit(status, 8)));
                spans.push(Span::raw(" "));
                spans.push(Span::raw(fit(&wabas_text(model, *line, *alloc, check), w)));
            } else {
                spans.push(Span::raw(format!("{:>5}", check.wabas)));
                spans.push(Span::raw(" "));
                spans.push(Span::raw(fit(status, 8)));
                spans.push(Span::raw(" "));
                spans.push(Span::raw(fit(credential, 16)));
            }
            Line::from(spans)
        }
        CreditRow::NotFunded { waba, reason } => {
            let (waba_id, reason) = (waba.id(), &pane.not_funded_reason(*reason, waba));
            let r = model.wabas.row(waba_id);
            let name = r.map_or("-", |r| r.waba.name());
            let currency = r.and_then(|r| r.waba.node.currency());
            let currency = currency.as_deref().unwrap_or("-");
            let owner = r.and_then(|r| r.waba.owner_name()).unwrap_or("-");
            let style = if reason.shareable() {
                theme.attention
            } else {
                theme.warn
            };
            let (name_w, owner_w, reason_w) = not_funded_widths(inner, wide);
            // "!" marks what a share fixes, in a symbol as well as colour.
            let fixable = if reason.shareable() { "!" } else { " " };
            let mut spans = vec![
                Span::raw(if selected { "›" } else { " " }),
                Span::styled(fixable, theme.attention),
                Span::raw(fit_name(name, name_w)),
                Span::raw(" "),
            ];
            if wide {
                spans.push(Span::styled(fit(owner, owner_w), theme.dim));
                spans.push(Span::raw(" "));
            }
            spans.extend([
                Span::styled(fit(waba_id, 16), theme.dim),
                Span::raw(" "),
                Span::raw(fit(currency, 3)),
                Span::raw(" "),
                Span::styled(fit(&reason.label(), reason_w), style),
            ]);
            Line::from(spans)
        }
    }
}

/// The names of the WABAs an allocation covers (the first few: a cell shows no more), and
/// how many more there are.
fn wabas_text(model: &Model, line: u32, alloc: u32, check: &CheckSummary) -> String {
    const SHOWN: usize = 3;
    if check.wabas == 0 {
        return "none of ours".into();
    }
    let mut text = model
        .credit
        .covered(&model.wabas, line, alloc, SHOWN)
        .iter()
        .map(|w| w.name().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let wabas = check.wabas as usize;
    if wabas > SHOWN {
        text.push_str(&format!(" +{} more", wabas - SHOWN));
    }
    text
}

fn draw_rows(frame: &mut Frame, area: Rect, model: &Model, view: &CreditView, theme: &Theme) {
    let pane = &model.credit;
    let wide = area.width >= WIDE;
    let title = match pane.lane {
        CreditLane::Allocations => format!(
            " Credit lines · {} line{} · {} allocations ",
            view.counts.len(),
            if view.counts.len() == 1 { "" } else { "s" },
            view.matching[0]
        ),
        CreditLane::NotFunded => format!(
            " Not funded by our credit lines · {} WABAs ",
            view.matching[1]
        ),
    };
    let legend: &[&str] = match pane.lane {
        CreditLane::Allocations => &[" ✓ verified ✗ mismatched ? unknown – revoked "],
        CreditLane::NotFunded => &[" ! a share fixes it "],
    };
    let selected_row = pane.selected_row(view);
    let block = Block::bordered()
        .title(Span::styled(title, theme.title))
        .title(super::solutions::position(
            model.credit.position(view),
            view.rows.len(),
            theme,
        ));
    let block = super::with_footer(
        block,
        super::key_hints(&row_hints(model, selected_row.as_ref()), theme),
        legend,
        area.width,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let width = inner.width as usize;
    frame.render_widget(
        Paragraph::new(header_line(pane.lane, width, wide, theme)),
        head,
    );
    if view.rows.is_empty() {
        let text = if !pane.filter.value().trim().is_empty() {
            "Nothing in this lane matches the filter."
        } else if pane.lane == CreditLane::NotFunded {
            match view.not_funded {
                None if model.wabas.not_configured => {
                    "No business id is set: the WABAs are not listed, so none can be checked."
                }
                None => "The WABAs are not read yet.",
                Some(_) => "Every client WABA is funded by one of our credit lines.",
            }
        } else {
            "No allocations."
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim), body);
        return;
    }
    // Build only the rows that fit: the window that keeps the selection in view.
    let height = body.height.max(1) as usize;
    let selected = pane.position(view);
    let offset = follow(pane.offset, selected, view.rows.len(), height);
    let lines: Vec<Line> = view
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, row)| {
            let line = row_line(model, view, row, i == selected, width, wide, theme);
            if i == selected {
                line.patch_style(theme.selected)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), body);
}

/// The keys that apply to the selected row, then the pane's own.
fn row_hints(model: &Model, row: Option<&CreditRow>) -> Vec<(Command, &'static str)> {
    let mut hints = vec![];
    let acts = !model.read_only;
    match row {
        Some(CreditRow::Allocation { line, alloc, .. })
            if acts
                && model
                    .credit
                    .allocation(*line, *alloc)
                    .is_some_and(|a| !a.is_revoked()) =>
        {
            hints.push((Command::Revoke, "revoke"));
        }
        Some(CreditRow::NotFunded { reason, .. }) if acts && reason.shareable() => {
            hints.push((Command::Share, "share a line"));
        }
        _ => {}
    }
    if row.is_some() {
        hints.push((Command::Open, "detail"));
    }
    hints.push((
        Command::NextLane,
        match model.credit.lane {
            CreditLane::Allocations => "not funded",
            CreditLane::NotFunded => "allocations",
        },
    ));
    hints.extend([(Command::Sort, "sort"), (Command::Filter, "filter")]);
    hints
}

/// `credit_available` as Meta gives it (a CurrencyAmount: `amount currency`).
fn credit_available(extra: &serde_json::Map<String, Value>) -> Option<String> {
    let o = extra.get("credit_available")?.as_object()?;
    let amount = o.get("amount")?.as_str()?;
    let currency = o.get("currency").and_then(Value::as_str).unwrap_or("");
    Some(inert(format!("{amount} {currency}").trim()).into_owned())
}

/// A name cut in the middle (both ends stay readable), padded to `width` cells.
fn fit_name(s: &str, width: usize) -> String {
    let cut = super::middle_ellipsis(&inert(s), width);
    let w = cut.width();
    cut + &" ".repeat(width.saturating_sub(w))
}

fn kv<'a>(label: &str, value: Cow<'_, str>, theme: &Theme, style: Style) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<13}"), theme.dim),
        Span::styled(inert(&value).into_owned(), style),
    ])
}

/// Fields Meta sent that we do not model, one per line: `name: value`, a CurrencyAmount as
/// `amount currency`.
fn extra_lines<'a>(extra: &serde_json::Map<String, Value>, theme: &Theme) -> Vec<Line<'a>> {
    extra
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Object(o) => match (o.get("amount"), o.get("currency")) {
                    (Some(Value::String(a)), Some(Value::String(c))) => format!("{a} {c}"),
                    _ => v.to_string(),
                },
                other => other.to_string(),
            };
            Line::from(vec![
                Span::styled(format!("{}: ", inert(k)), theme.dim),
                Span::styled(inert(&text).into_owned(), theme.text),
            ])
        })
        .collect()
}

fn why(v: Verification) -> &'static str {
    match v {
        Verification::Verified => {
            "Verified: the WABA's primary_funding_id equals this allocation's receiving credential, as Meta prescribes."
        }
        Verification::Mismatched => {
            "Mismatched: a WABA of this business is funded by another source than this allocation's receiving credential. Check with the customer and Meta; a funding source cannot be changed once attached."
        }
        Verification::Unknown => {
            "Unknown: no WABA of this business in our book is attached to it (or the WABAs are not read yet), so there is nothing to compare with."
        }
        Verification::Revoked => {
            "Revoked: request_status is DELETED; the line no longer funds this business's WABAs."
        }
    }
}

fn draw_detail(
    frame: &mut Frame,
    area: Rect,
    model: &Model,
    view: &CreditView,
    row: &CreditRow,
    theme: &Theme,
) {
    let pane = &model.credit;
    let next_row = (Command::Down, "next row");
    let close = (Command::Close, "close");
    let (title, mut lines, keys): (String, Vec<Line>, Vec<(Command, &str)>) = match row {
        CreditRow::Line { line } => {
            let Some(d) = pane.lines.get(*line as usize) else {
                return;
            };
            let c = view.counts.get(*line as usize).copied().unwrap_or_default();
            let mut lines = vec![
                kv(
                    "Legal entity",
                    Cow::Borrowed(d.line.name()),
                    theme,
                    theme.title,
                ),
                kv("Credit line", Cow::Borrowed(&d.line.id), theme, theme.text),
                Line::from(
                    [
                        vec![Span::styled(
                            format!("{:<13}{} ", "Allocations", c.allocations),
                            theme.dim,
                        )],
                        count_spans(&c, theme),
                    ]
                    .concat(),
                ),
                Line::default(),
            ];
            lines.extend(extra_lines(&d.line.extra, theme));
            (
                format!(" Credit line {} ", inert(&d.line.id)),
                lines,
                vec![next_row, close],
            )
        }
        CreditRow::Allocation { line, alloc, check } => {
            let (Some(d), Some(a)) = (
                pane.lines.get(*line as usize),
                pane.allocation(*line, *alloc),
            ) else {
                return;
            };
            let v = check.verification;
            let mut lines = vec![
                kv(
                    "Customer",
                    Cow::Owned(format!(
                        "{}  {}",
                        a.business_name(),
                        a.business_id().unwrap_or("-")
                    )),
                    theme,
                    theme.title,
                ),
                kv(
                    "Credit line",
                    Cow::Owned(format!("{}  {}", d.line.name(), d.line.id)),
                    theme,
                    theme.text,
                ),
                kv("Allocation", Cow::Borrowed(&a.id), theme, theme.text),
                kv(
                    "Credential",
                    Cow::Borrowed(a.credential_id().unwrap_or("-")),
                    theme,
                    theme.text,
                ),
                kv(
                    "Status",
                    Cow::Borrowed(a.request_status.as_deref().unwrap_or("-")),
                    theme,
                    theme.text,
                ),
                Line::from(vec![
                    Span::styled(format!("{:<13}", "Check"), theme.dim),
                    Span::styled(check_text(v), check_style(v, theme)),
                ]),
                Line::from(Span::styled(why(v), theme.dim)),
                Line::default(),
                Line::from(Span::styled(
                    format!("WABAs of this business ({}):", check.wabas),
                    theme.header,
                )),
            ];
            for w in pane.covered(&model.wabas, *line, *alloc, usize::MAX) {
                let funding = w.node.funding_id();
                let (mark, style, note) = match funding {
                    None => (
                        "·",
                        theme.warn,
                        "no funding source: not attached".to_string(),
                    ),
                    Some(f) if Some(f) == a.credential_id() => {
                        ("✓", theme.ok, format!("funded by {f}"))
                    }
                    Some(f) => ("✗", theme.error, format!("funding {f} ≠ credential")),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {mark} "), style),
                    Span::raw(inert(w.name()).into_owned()),
                    Span::styled(format!("  {}  ", inert(w.id())), theme.dim),
                    Span::styled(inert(&note).into_owned(), style),
                ]));
            }
            if check.wabas == 0 {
                lines.push(Line::from(Span::styled(
                    "  none in our book (the customer may have unshared them: Meta recommends revoking promptly)",
                    theme.dim,
                )));
            }
            if !a.extra.is_empty() {
                lines.push(Line::default());
                lines.extend(extra_lines(&a.extra.map(), theme));
            }
            let keys = if a.is_revoked() || model.read_only {
                vec![next_row, close]
            } else {
                vec![(Command::Revoke, "revoke"), next_row, close]
            };
            (
                format!(
                    " Allocation {} · {} ",
                    inert(&a.id),
                    inert(a.business_name())
                ),
                lines,
                keys,
            )
        }
        CreditRow::NotFunded { waba, reason } => {
            let (waba_id, reason) = (waba.id(), &pane.not_funded_reason(*reason, waba));
            let w = model.wabas.row(waba_id);
            let text = |f: Option<&str>| Cow::Owned(f.unwrap_or("-").to_string());
            let node = w.map(|r| &r.waba.node);
            let explain = match reason {
                NotFunded::NoFunding => {
                    "No funding source: S shares one of our credit lines with its business and attaches it."
                }
                NotFunded::NotAttached { .. } => {
                    "Its business already has an allocation of ours, but this WABA is not attached: S attaches it (the share reuses the allocation)."
                }
                NotFunded::Revoked { .. } => {
                    "It was funded by an allocation of ours that was revoked: S shares a line again."
                }
                NotFunded::Mismatched { .. } => {
                    "Its business has an allocation of ours, but the WABA is funded by another source: a mismatch. A funding source cannot be changed once attached."
                }
                NotFunded::OtherFunding { .. } => {
                    "Funded by a source that is not ours (the customer's own, or another partner's). It cannot be changed once attached."
                }
            };
            let lines = vec![
                kv(
                    "WABA",
                    Cow::Owned(format!("{}  {}", w.map_or("-", |r| r.waba.name()), waba_id)),
                    theme,
                    theme.title,
                ),
                kv(
                    "Customer",
                    text(w.and_then(|r| r.waba.owner_name())),
                    theme,
                    theme.text,
                ),
                kv(
                    "Currency",
                    text(node.and_then(|n| n.currency()).as_deref()),
                    theme,
                    theme.text,
                ),
                kv(
                    "Funding",
                    text(node.and_then(|n| n.primary_funding_id())),
                    theme,
                    theme.text,
                ),
                kv("Why", Cow::Owned(reason.label()), theme, theme.attention),
                Line::default(),
                Line::from(Span::styled(explain, theme.dim)),
            ];
            let keys = if reason.shareable() && !model.read_only {
                vec![(Command::Share, "share a line"), next_row, close]
            } else {
                vec![next_row, close]
            };
            (format!(" WABA {} ", inert(waba_id)), lines, keys)
        }
    };
    lines.push(Line::default());
    lines.push(super::key_hints(&keys, theme));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Span::styled(title, theme.title))),
        area,
    );
}
