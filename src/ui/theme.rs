//! Colours and emphasis. Everything that matters is also said in words or symbols, so the
//! monochrome theme loses nothing but colour.
//!
//! Three themes (`theme` in the config file, `PARTNERDECK_THEME`): `dark` (the default, for
//! dark backgrounds), `light` (readable on white: no yellow, no cyan text, no pale grey) and
//! `mono` (no colour code at all: bold, reverse and underline only). `NO_COLOR` set to
//! anything non-empty means `mono` unless a theme is chosen explicitly (no-color.org: a
//! user's own setting wins over `NO_COLOR`).

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub header: Style,
    pub selected: Style,
    pub tab_active: Style,
    pub attention: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub key: Style,
}

/// The theme a user can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThemeName {
    #[default]
    Dark,
    Light,
    Mono,
}

impl FromStr for ThemeName {
    type Err = String;
    fn from_str(s: &str) -> Result<ThemeName, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dark" => Ok(ThemeName::Dark),
            "light" => Ok(ThemeName::Light),
            "mono" | "monochrome" => Ok(ThemeName::Mono),
            other => Err(format!(
                "expected \"dark\", \"light\" or \"mono\", got {other:?}"
            )),
        }
    }
}

impl ThemeName {
    /// The theme in force: the one chosen, else `mono` under `NO_COLOR`, else `dark`.
    pub fn resolve(chosen: Option<ThemeName>, no_color: bool) -> ThemeName {
        match chosen {
            Some(t) => t,
            None if no_color => ThemeName::Mono,
            None => ThemeName::Dark,
        }
    }

    pub fn theme(self) -> Theme {
        match self {
            ThemeName::Dark => Theme::colored(),
            ThemeName::Light => Theme::light(),
            ThemeName::Mono => Theme::monochrome(),
        }
    }
}

impl Theme {
    /// The `dark` theme: for a dark background.
    pub fn colored() -> Theme {
        Theme {
            text: Style::default(),
            dim: Style::default().fg(Color::DarkGray),
            title: Style::default().add_modifier(Modifier::BOLD),
            header: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            tab_active: Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            attention: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            ok: Style::default().fg(Color::Green),
            warn: Style::default().fg(Color::Yellow),
            error: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            key: Style::default().fg(Color::Cyan),
        }
    }

    /// The `light` theme: dark colours that read on a white background (yellow and cyan text
    /// do not; attention and warnings are magenta and bold instead).
    pub fn light() -> Theme {
        Theme {
            text: Style::default(),
            dim: Style::default().fg(Color::DarkGray),
            title: Style::default().add_modifier(Modifier::BOLD),
            header: Style::default()
                .fg(Color::Blue)
                .add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            tab_active: Style::default()
                .fg(Color::White)
                .bg(Color::Blue)
                .add_modifier(Modifier::BOLD),
            attention: Style::default()
                .fg(Color::Magenta)
                .add_modifier(Modifier::BOLD),
            ok: Style::default().fg(Color::Green),
            warn: Style::default()
                .fg(Color::Magenta)
                .add_modifier(Modifier::BOLD),
            error: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            key: Style::default()
                .fg(Color::Blue)
                .add_modifier(Modifier::BOLD),
        }
    }

    /// The `mono` theme: no colour at all, emphasis by bold, reverse and underline.
    pub fn monochrome() -> Theme {
        let plain = Style::default();
        Theme {
            text: plain,
            dim: plain,
            title: plain.add_modifier(Modifier::BOLD),
            header: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selected: plain.add_modifier(Modifier::REVERSED),
            tab_active: plain.add_modifier(Modifier::REVERSED | Modifier::BOLD),
            attention: plain.add_modifier(Modifier::BOLD),
            ok: plain,
            warn: plain.add_modifier(Modifier::BOLD),
            error: plain.add_modifier(Modifier::BOLD),
            key: plain.add_modifier(Modifier::BOLD),
        }
    }

    /// The theme for `chosen` (the `theme` setting, if given) and the environment's
    /// `NO_COLOR` (set to anything non-empty means no colour, per no-color.org).
    pub fn choose(chosen: Option<ThemeName>) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        ThemeName::resolve(chosen, no_color).theme()
    }

    /// Every style of the theme, for checks over all of them.
    pub fn styles(&self) -> [Style; 11] {
        [
            self.text,
            self.dim,
            self.title,
            self.header,
            self.selected,
            self.tab_active,
            self.attention,
            self.ok,
            self.warn,
            self.error,
            self.key,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_no_color_yields_to_a_chosen_theme() {
        assert_eq!("Light".parse::<ThemeName>(), Ok(ThemeName::Light));
        assert_eq!("mono".parse::<ThemeName>(), Ok(ThemeName::Mono));
        assert!("solarized".parse::<ThemeName>().is_err());
        assert_eq!(ThemeName::resolve(None, true), ThemeName::Mono);
        assert_eq!(ThemeName::resolve(None, false), ThemeName::Dark);
        assert_eq!(
            ThemeName::resolve(Some(ThemeName::Light), true),
            ThemeName::Light
        );
    }

    #[test]
    fn mono_has_no_colour_and_light_has_nothing_pale() {
        for style in Theme::monochrome().styles() {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
        // On white: no yellow, cyan or white text; white only on a dark background.
        for style in Theme::light().styles() {
            let pale = [
                Color::Yellow,
                Color::LightYellow,
                Color::Cyan,
                Color::LightCyan,
                Color::Gray,
            ];
            assert!(!style.fg.is_some_and(|c| pale.contains(&c)), "{style:?}");
            if style.fg == Some(Color::White) {
                assert!(style.bg.is_some_and(|c| c != Color::White), "{style:?}");
            }
        }
    }
}
