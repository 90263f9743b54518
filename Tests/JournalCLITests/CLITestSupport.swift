import Foundation
import Journal
import JournalProjections
import JournalStore
import JournalTesting

/// A temporary directory with a journal file for one CLI test.
struct CLIWorkspace {
    let directory = TestSupport.temporaryDirectory("tpj-cli")
    var db: String { directory.appendingPathComponent("journal.sqlite").path }

    /// Runs `tpj` with `--db` pointing at this workspace's journal.
    func tpj(_ arguments: String..., input: String? = nil) throws -> TestSupport.ProcessResult {
        try tpj(arguments, input: input)
    }

    func tpj(_ arguments: [String], input: String? = nil) throws -> TestSupport.ProcessResult {
        try TestSupport.runTPJ(arguments + ["--db", db], in: directory, input: input)
    }

    /// Writes the hand-made four-customer world (60 events) into this workspace's journal.
    func writeHandMadeWorld() throws {
        let writer = try JournalDatabase.open(path: db)
        try DemoWorld.write { clock in try EventStore(writer: writer, clock: clock) }
    }

    func write(_ name: String, _ contents: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

/// The timeline's version as `tpj projections` lists it, e.g. `v70002`.
let timelineVersion = "v\(JourneyTimeline(registry: .bundled).version)"

/// NDJSON of `count` valid hotline calls whose event ids start at `first`.
func callsNDJSON(first: Int, count: Int, customer: String? = nil) -> String {
    (first..<(first + count)).map { n in
        let id = TestEvents.id(n)
        let customerField = customer.map { #""customerId":"\#($0)","# } ?? ""
        return #"{\#(customerField)"eventId":"\#(id)","type":"hotline.call.received","occurredAt":"2026-03-02T08:15:00+01:00","payload":{"queueWaitSeconds":\#(n % 600),"abandoned":false,"solvedOnCall":true,"machineDown":false}}"#
    }.joined(separator: "\n") + "\n"
}
