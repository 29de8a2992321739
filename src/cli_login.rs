//! Who runs a command: the steps that change a document's life (revocation, holds, retention,
//! disposition) and user administration are recorded under a user of the appliance, who logs in
//! with name and password against the same accounts as the HTTP API, and whose role is checked
//! against the operation's permit as HTTP checks it. Other commands may name a user too (and are then
//! held to the same permits); without one they are recorded as `cli:<login name of the system>`,
//! which the system, not sohoa, vouches for. The password comes from the terminal (not echoed) or from the next line of
//! standard input, never from an argument or the environment, where other processes can read it.

use std::io::{BufRead, IsTerminal};

use crate::ops::Permit;
use crate::users::{Login, Role};
use crate::{Appliance, ApplianceError};

/// Who runs a command: the name it is recorded under and, when a user logged in, their role.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user's name, or `cli:<system user>` without a login.
    pub name: String,
    /// The logged-in user's role; `None` for the system's user, who holds the data directory.
    pub role: Option<Role>,
}

/// The actor a command is recorded under. With `user`, the user logs in (password from the terminal
/// or standard input; the login is audited from `cli`) and must hold one of the permit's roles, the
/// same as over HTTP. Without a user, a command whose operation changes a document's life or an
/// account (`required`) is refused, and any other runs as the system's user, who holds the data
/// directory and so everything in it.
pub fn actor(
    appliance: &Appliance,
    user: Option<&str>,
    permit: Option<Permit>,
    required: bool,
) -> Result<Actor, ApplianceError> {
    let Some(name) = user else {
        return match permit.filter(|_| required) {
            Some(permit) => Err(ApplianceError::Input(format!(
                "to {} say who you are with --user NAME (the password is then read from the terminal or standard input)",
                permit.what
            ))),
            None => Ok(Actor { name: format!("cli:{}", system_user()), role: None }),
        };
    };
    let password = read_secret(&format!("password for {name}"))?;
    let Login::Accepted(role) = appliance.log_in(name, &password, "cli")? else {
        return Err(ApplianceError::Input(format!("login as {name:?} failed: wrong user name or password")));
    };
    if let Some(permit) = permit.filter(|p| !p.allows(role)) {
        let allowed: Vec<&str> = permit.roles.iter().map(|r| r.as_str()).collect();
        return Err(ApplianceError::Input(format!(
            "{name} is {role}; only {} may {}",
            allowed.join(" or "),
            permit.what
        )));
    }
    Ok(Actor { name: name.to_owned(), role: Some(role) })
}

/// The system's login name, as the environment gives it: what commands that change no document's
/// life are recorded under when no user logs in.
pub fn system_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into())
}

/// Reads one line that must not be shown: from the terminal with echo off when standard input is
/// one (after `prompt` on standard error), else the next line of standard input.
pub fn read_secret(prompt: &str) -> Result<String, ApplianceError> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    let read = if stdin.is_terminal() {
        eprint!("{prompt}: ");
        let _quiet = EchoOff::on_stdin();
        let read = stdin.lock().read_line(&mut line);
        eprintln!();
        read
    } else {
        stdin.lock().read_line(&mut line)
    };
    match read {
        Ok(0) => Err(ApplianceError::Input(format!("{prompt}: nothing on standard input"))),
        Ok(_) => Ok(line.trim_end_matches(['\r', '\n']).to_owned()),
        Err(e) => Err(ApplianceError::Input(format!("{prompt}: cannot read standard input: {e}"))),
    }
}

/// The terminal on standard input with echo turned off, until dropped.
struct EchoOff {
    saved: Option<libc::termios>,
}

impl EchoOff {
    fn on_stdin() -> Self {
        // SAFETY: `termios` is plain data that `tcgetattr` fills in; both calls only read or set
        // the attributes of file descriptor 0, which stays open for the life of the process.
        unsafe {
            let mut attributes: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut attributes) != 0 {
                return EchoOff { saved: None };
            }
            let saved = attributes;
            attributes.c_lflag &= !libc::ECHO;
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &attributes);
            EchoOff { saved: Some(saved) }
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            // SAFETY: restores the attributes read in `on_stdin` on the same descriptor.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved);
            }
        }
    }
}
