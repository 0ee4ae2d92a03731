# Sourced by the install scripts: sets SUDO to "" (root) or "sudo" (password-less sudo) for
# apt-get, or says why apt cannot be used and exits 1. Needs `say` and `need_msg` set.
if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get on this machine; $need_msg"
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=sudo
    else
        say "not root and no password-less sudo; $need_msg"
        exit 1
    fi
else
    SUDO=
fi
