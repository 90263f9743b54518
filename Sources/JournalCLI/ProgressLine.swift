import Foundation
import JournalProjections

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
    private var lastFold: FoldProgress?

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

    /// Shows `fraction` (0…1; nil shows none) and an optional detail, at most five times a second and not
    /// in the first half second. `newStep` shows it however recently the line was drawn: the start of a
    /// step that tells no progress of its own must not be lost.
    func update(_ fraction: Double?, _ detail: String = "", newStep: Bool = false) {
        guard enabled else { return }
        let time = now()
        guard newStep || time.timeIntervalSince(lastShown) >= 0.2, time.timeIntervalSince(started) >= 0.5 else { return }
        lastShown = time
        shown = true
        var text = "\r\u{1B}[K\(label):"
        if let fraction { text += " \(Int((min(max(fraction, 0), 1) * 100).rounded(.down)))%" + (detail.isEmpty ? "" : " ") }
        if !detail.isEmpty { text += " " + detail }
        write(text)
    }

    /// Shows how far a fold has come (``Output/describe(_:)``); returns true when it starts a new step.
    @discardableResult
    func update(_ progress: FoldProgress) -> Bool {
        let newStep = progress.projection != lastFold?.projection || progress.step != lastFold?.step
        lastFold = progress
        update(progress.fraction, Output.describe(progress), newStep: newStep)
        return newStep
    }

    /// Clears the line, if one was shown.
    func finish() {
        if shown { write("\r\u{1B}[K") }
    }
}
