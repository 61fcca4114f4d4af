//! The terminal while the dashboard owns it: raw mode and the alternate screen, given
//! back on drop, on panic, and for the time a shell runs.

use std::io::{stdout, Stdout};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

pub struct TerminalGuard {
    pub terminal: Term,
    /// Whether the mouse is captured, kept across a shell.
    mouse: bool,
}

impl TerminalGuard {
    pub fn enter() -> std::io::Result<TerminalGuard> {
        install_panic_restore();
        take(true)?;
        let terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok(TerminalGuard {
            terminal,
            mouse: true,
        })
    }

    /// Captures the mouse (clicks and wheel come as events) or releases it to the terminal,
    /// which then selects text.
    pub fn set_mouse(&mut self, on: bool) -> std::io::Result<()> {
        self.mouse = on;
        if on {
            execute!(stdout(), EnableMouseCapture)
        } else {
            execute!(stdout(), DisableMouseCapture)
        }
    }

    /// Gives the terminal back for a child (a shell), then takes it again and redraws
    /// everything on the next frame.
    pub fn suspended<T>(&mut self, run: impl FnOnce() -> T) -> std::io::Result<T> {
        give_back();
        let result = run();
        take(self.mouse)?;
        // A fresh terminal redraws every cell. Not `Terminal::clear`: it asks the terminal
        // for the cursor position, and the wake-up crossterm left pending when the key stream
        // was dropped cuts that read short, failing the dashboard after every shell.
        execute!(stdout(), Clear(ClearType::All))?;
        self.terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok(result)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        give_back();
    }
}

fn take(mouse: bool) -> std::io::Result<()> {
    enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen, Hide)?;
    if mouse {
        execute!(stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

/// Everything `take` turned on, off again; the mouse always, as it may have been captured.
fn give_back() {
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), DisableMouseCapture, LeaveAlternateScreen, Show);
}

fn install_panic_restore() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        give_back();
        previous(info);
    }));
}
