import Foundation
import GRDB
import Journal
import JournalStore
import JournalTesting
import Testing

/// Single-byte changes in any stored column are found by `verify`.
@Suite struct TamperDetectionTests {
    static let columns = [
        "position", "eventId", "customerId", "streamVersion", "type", "schemaVersion", "occurredAt", "occurredAtUs",
        "recordedAtUs", "caseId", "assetId", "siteId", "actor", "source", "correlationId", "causationId", "payload",
        "prevHash", "hash",
    ]

    @Test func aCustomerReadRefusesAnEventEditedWithOrWithoutItsHash() throws {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path), clock: steppingClock())
        for n in 1...9 { try store.append([Events.call(n)], to: "C-\(n % 3)") }
        #expect(try store.history(of: "C-1").count == 3)
        let raw = try DatabaseQueue(path: path)
        try raw.inDatabase { db in try db.execute(sql: "DROP TRIGGER event_no_update") }
        // An edited payload: the event no longer hashes to its stored hash.
        try raw.inDatabase { db in try db.execute(sql: "UPDATE event SET payload = ' ' || payload WHERE position = 4") }
        #expect(throws: JournalError.tampered(position: 4, customerId: "C-1")) { try store.history(of: "C-1") }
        #expect(try store.history(of: "C-2").count == 3, "other customers read as before")
        // Its hash rewritten to match: the next event (another customer's) no longer links to it.
        let event = try #require(try store.events(after: 3, limit: 1).first)
        var buffer: [UInt8] = []
        try raw.inDatabase { db in
            try db.execute(sql: "UPDATE event SET hash = ? WHERE position = 4", arguments: [Data(EventChain.expectedHash(of: event, buffer: &buffer))])
        }
        #expect(throws: JournalError.tampered(position: 4, customerId: "C-1")) { try store.requireIntact(customerId: "C-1") }
    }

    @Test func everySingleByteFlipInEveryColumnIsDetected() throws {
        // Given a journal of 60 events with every optional field set
        let path = TestSupport.temporaryDirectory().appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path), clock: steppingClock())
        for n in 1...60 {
            var event = Events.call(n)
            event.assetId = "SN-\(n)"
            event.siteId = "S-1"
            event.correlationId = "corr-\(n)"
            event.causationId = "cause-\(n)"
            try store.append([event], to: "C-\(n % 7)")
        }
        #expect(try store.verify().isIntact)
        // and a raw connection on the same file, with the triggers dropped.
        let raw = try DatabaseQueue(path: path)
        try raw.inDatabase { db in
            for trigger in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'") {
                try db.execute(sql: "DROP TRIGGER \(trigger)")
            }
        }
        var random = SplitMix64(seed: 4711)
        var flips = 0
        for column in Self.columns {
            for _ in 0..<4 {
                let position = Int64(1 + random.next() % 60)
                // When one bit of one byte of the column changes,
                let original = try raw.read { db in try DatabaseValue.fetchOne(db, sql: "SELECT \(column) FROM event WHERE position = ?", arguments: [position])! }
                // (a flip that collides with a unique key of another row is drawn again)
                var tampered = original
                for attempt in 1...20 {
                    let (candidate, asText) = flip(original, using: &random)
                    do {
                        try raw.inDatabase { db in
                            try db.execute(
                                sql: "UPDATE event SET \(column) = \(asText ? "CAST(? AS TEXT)" : "?") WHERE position = ?",
                                arguments: [candidate, position])
                        }
                        tampered = candidate
                        break
                    } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT && attempt < 20 {
                        continue
                    }
                }
                // then verify names the event (or, for a moved position, the gap it left),
                let report = try store.verify()
                let failure = try #require(report.failure, "flip in \(column) at \(position) not detected")
                if column == "position" {
                    #expect(failure.reason.contains("missing"), "\(failure.reason)")
                } else {
                    #expect(failure.position == position, "\(column) at \(position): \(failure)")
                }
                flips += 1
                // and restoring the byte restores the chain.
                let current = column == "position" ? tamperedPosition(tampered) : position
                try raw.inDatabase { db in
                    try db.execute(sql: "UPDATE event SET \(column) = ? WHERE position = ?", arguments: [original, current])
                }
                #expect(try store.verify().isIntact)
            }
        }
        #expect(flips == Self.columns.count * 4)
    }

    @Test func aRangeVerifiesOnItsOwnAndAGapIsReported() throws {
        let store = try EventStore(writer: JournalDatabase.inMemory())
        for n in 1...30 { try store.append([Events.call(n)], to: "C-1") }
        let range = try store.verify(from: 10, through: 20)
        #expect(range.isIntact && range.checked == 11 && range.first == 10 && range.last == 20)
        #expect(try store.verify(from: 31).checked == 0)
        #expect(throws: JournalError.self) { try store.verify(from: 0) }
        #expect(throws: JournalError.self) { try store.verify(from: 5, through: 4) }
    }

    private func tamperedPosition(_ value: DatabaseValue) -> Int64 {
        Int64.fromDatabaseValue(value)!
    }

    /// The value with one bit of one byte flipped; text comes back as bytes to be stored `AS TEXT`,
    /// since a flipped byte need not be valid UTF-8.
    private func flip(_ value: DatabaseValue, using random: inout SplitMix64) -> (DatabaseValue, asText: Bool) {
        switch value.storage {
        case .int64(let integer):
            // A high bit for positions keeps the moved row clear of existing ones.
            return ((integer ^ (1 << (40 + Int64(random.next() % 8)))).databaseValue, false)
        case .string(let text):
            var bytes = Array(text.utf8)
            bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1 << (random.next() % 7))
            return (Data(bytes).databaseValue, true)
        case .blob(let data):
            var bytes = Array(data)
            bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1 << (random.next() % 8))
            return (Data(bytes).databaseValue, false)
        case .double, .null:
            Issue.record("unexpected storage \(value)")
            return (value, false)
        }
    }
}
