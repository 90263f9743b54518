import Foundation

/// Progress of long work on stderr, redrawn in place — only when stderr is a terminal. Piped or
/// redirected output (scripts, tests, logs) never gets progress lines, however long the work takes.
final class ProgressLine {
    private let label: String
    private let enabled: Bool
    private let write: (String) -> Void
    private let now: () -> Date
    private let started: Date
    private var lastShown = Date.distantPast
    private var shown = false

    /// `enabled: false` (e.g. under `--json`) shows nothing even on a terminal.
    init(
        label: String, enabled: Bool = true, terminal: Bool = isatty(STDERR_FILENO) == 1,
        write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }, now: @escaping () -> Date = Date.init
    ) {
        self.label = label
        self.enabled = enabled && terminal
        self.write = write
        self.now = now
        self.started = now()
    }

    /// Seconds since the line was made.
    var elapsed: Double { now().timeIntervalSince(started) }

    /// Shows `fraction` (0…1) and an optional detail, at most five times a second and not in the first half second.
    func update(_ fraction: Double, _ detail: String = "") {
        guard enabled else { return }
        let time = now()
        guard time.timeIntervalSince(lastShown) >= 0.2, time.timeIntervalSince(started) >= 0.5 else { return }
        lastShown = time
        shown = true
        let percent = Int((min(max(fraction, 0), 1) * 100).rounded(.down))
        write("\r\u{1B}[K\(label): \(percent)%" + (detail.isEmpty ? "" : "  " + detail))
    }

    /// Clears the line, if one was shown.
    func finish() {
        if shown { write("\r\u{1B}[K") }
    }
}
