import Foundation
@testable import JournalCLI
import JournalProjections
import Testing

/// Progress lines belong on a terminal: piped output stays the same however slow the work is.
@Suite struct ProgressLineTests {
    /// A clock that the test moves forward, and what the line wrote.
    final class Harness: @unchecked Sendable {
        var time = Date(timeIntervalSince1970: 1_000_000)
        var written: [String] = []
    }

    func line(terminal: Bool, enabled: Bool = true, _ harness: Harness) -> ProgressLine {
        ProgressLine(label: "Working", enabled: enabled, terminal: terminal, write: { harness.written.append($0) }, now: { harness.time })
    }

    @Test func slowWorkWritesNothingWhenStderrIsNotATerminal() {
        let harness = Harness()
        let progress = line(terminal: false, harness)
        for step in 1...100 {
            harness.time += 10
            progress.update(Double(step) / 100, "\(step) events")
        }
        progress.finish()
        #expect(harness.written.isEmpty)
    }

    @Test func aTerminalSeesTheLineRedrawnAndClearedAtTheEnd() {
        let harness = Harness()
        let progress = line(terminal: true, harness)
        progress.update(0.1)
        #expect(harness.written.isEmpty, "nothing in the first half second")
        harness.time += 1
        progress.update(0.5, "5 events")
        harness.time += 0.1
        progress.update(0.6)
        #expect(harness.written == ["\r\u{1B}[KWorking: 50%  5 events"], "at most five redraws a second")
        progress.finish()
        #expect(harness.written.last == "\r\u{1B}[K")
    }

    @Test func eachStepOfAFoldIsShownHoweverSoonItFollowsTheLastOne() {
        let harness = Harness()
        let progress = line(terminal: true, harness)
        harness.time += 1
        #expect(progress.update(FoldProgress(projection: "timeline", step: .folding, done: 500, total: 1_000)))
        harness.time += 0.05
        #expect(!progress.update(FoldProgress(projection: "timeline", step: .folding, done: 600, total: 1_000)))
        harness.time += 0.05
        #expect(progress.update(FoldProgress(projection: "timeline", step: .indexing)))
        #expect(harness.written == [
            "\r\u{1B}[KWorking: 50%  timeline: folding events, 500 of 1,000",
            "\r\u{1B}[KWorking: timeline: building indexes",
        ])
    }

    @Test func disabledShowsNothingEvenOnATerminal() {
        let harness = Harness()
        let progress = line(terminal: true, enabled: false, harness)
        harness.time += 5
        progress.update(0.5)
        progress.finish()
        #expect(harness.written.isEmpty)
    }
}
