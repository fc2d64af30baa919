//! What every pane's list shares: the viewport that keeps the selected row in view and keeps
//! its place while the selection moves inside it (scrolling up does not pin the selection to
//! the bottom row). The state machine keeps each pane's `offset` with this; the screen draws
//! with the same function, so a terminal of another height still shows the selection.

/// The first row to show so that `selected` is visible in a window of `rows` rows, moving
/// `offset` only as far as needed.
/// The item `step` places from `current` in `all`, wrapping around: how panes and lanes
/// cycle (`step` 1 = next, -1 = previous). An item not in `all` counts as the first.
pub fn cycle<T: Copy + PartialEq>(all: &[T], current: T, step: isize) -> T {
    let at = all.iter().position(|x| *x == current).unwrap_or(0) as isize;
    all[(at + step).rem_euclid(all.len() as isize) as usize]
}

pub fn follow(offset: usize, selected: usize, len: usize, rows: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let rows = rows.max(1);
    let selected = selected.min(len - 1);
    let offset = if selected < offset {
        selected
    } else if selected >= offset + rows {
        selected + 1 - rows
    } else {
        offset
    };
    offset.min(len.saturating_sub(rows))
}

#[cfg(test)]
mod tests {
    use super::{cycle, follow};

    #[test]
    fn cycling_wraps_both_ways() {
        let all = ['a', 'b', 'c'];
        assert_eq!(cycle(&all, 'c', 1), 'a');
        assert_eq!(cycle(&all, 'a', -1), 'c');
        assert_eq!(cycle(&all, 'b', 1), 'c');
        assert_eq!(
            cycle(&all, 'z', 1),
            'b',
            "an unknown item counts as the first"
        );
    }

    #[test]
    fn the_window_moves_only_when_the_selection_leaves_it() {
        // Down past the bottom: the window follows.
        assert_eq!(follow(0, 9, 100, 10), 0);
        assert_eq!(follow(0, 10, 100, 10), 1);
        // Back up inside the window: it stays (the selection is not pinned to the bottom).
        assert_eq!(follow(1, 5, 100, 10), 1);
        // Above the top: the window follows up.
        assert_eq!(follow(5, 2, 100, 10), 2);
        // A list that shrank: no empty rows past its end.
        assert_eq!(follow(50, 3, 8, 10), 0);
        assert_eq!(follow(0, 0, 0, 10), 0);
    }
}
