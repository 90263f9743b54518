import Foundation
import GRDB
import Journal
import JournalStore
import JournalTesting
import Synchronization

/// The two kinds of database every store test runs on.
enum StoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case inMemory
    case walFile

    var description: String { rawValue }

    func makeWriter() throws -> any DatabaseWriter {
        switch self {
        case .inMemory:
            return try JournalDatabase.inMemory()
        case .walFile:
            let path = TestSupport.temporaryDirectory("tpj-store").appendingPathComponent("journal.sqlite").path
            return try JournalDatabase.open(path: path)
        }
    }
}

/// Makes events with deterministic ids: `n` gives the id `00000000-0000-7000-8000-<n as 12 hex digits>`.
enum Events {
    static func id(_ n: Int) -> String { TestEvents.id(n) }

    static func call(_ n: Int, at occurredAt: String = "2026-03-02T08:15:00+01:00", wait: Int64 = 95) -> ProposedEvent {
        ProposedEvent(
            eventId: id(n), type: "hotline.call.received", occurredAt: occurredAt, caseId: "CASE-\(n)",
            actor: "hotline/anna", source: "hotline",
            payload: ["queueWaitSeconds": .number(JSONNumber(wait)), "abandoned": false, "solvedOnCall": false, "machineDown": true])
    }

    static func note(_ n: Int, _ text: String = "a note", at occurredAt: String = "2026-03-02T08:15:00+01:00") -> ProposedEvent {
        ProposedEvent(eventId: id(n), type: "note.added", occurredAt: occurredAt, payload: ["text": .string(text)])
    }

    static func void(_ n: Int, target: Int) -> ProposedEvent {
        ProposedEvent(
            eventId: id(n), type: "touchpoint.voided", occurredAt: "2026-03-03T08:00:00Z",
            payload: ["voidedEventId": .string(id(target)), "reason": "entered in error"])
    }
}

/// A clock that starts at 2026-03-02T08:00:00Z and moves one second per reading.
func steppingClock() -> JournalClock {
    let seconds = Mutex(Int64(1_772_438_400))
    return JournalClock {
        Timestamp.seconds(seconds.withLock { value in
            value += 1
            return value
        })
    }
}
