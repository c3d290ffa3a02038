""" "Asli atau palsu?": a short real-or-fake game per campaign, played with the pictures of the
published verdicts its moderators chose, and its anonymous counts."""
