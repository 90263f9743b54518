import Foundation
import Journal
import JournalStore
import JournalTesting
import JournalWorld
import Testing

@Suite struct WorldGeneratorTests {
    /// Every event of a world as canonical text, with the night it is recorded in.
    func canonicalLines(_ configuration: WorldConfiguration) throws -> [String] {
        var lines: [String] = []
        try WorldGenerator.generate(configuration) { night in
            for batch in night.batches {
                for event in batch.events { lines.append(night.recordedAt.rfc3339 + " " + CanonicalJSON.string(event.json)) }
            }
        }
        return lines
    }

    @Test func theSameSeedGivesTheSameEventsByteForByte() throws {
        // Given one configuration generated twice
        let configuration = WorldConfiguration(customers: 80, years: 2, seed: 42)
        let first = try canonicalLines(configuration)
        let second = try canonicalLines(configuration)
        // Then every event, its id and the night it is recorded in are identical
        #expect(first.count > 1_000)
        #expect(first == second)
        // and another seed or start gives another world.
        #expect(try canonicalLines(WorldConfiguration(customers: 80, years: 2, seed: 43)) != first)
        let later = try canonicalLines(WorldConfiguration(customers: 80, years: 2, seed: 42, start: "2024-03-01"))
        #expect(later.first?.hasPrefix("2024-03-0") == true)
    }

    @Test func aCustomersJourneyDoesNotDependOnTheSizeOfTheWorld() throws {
        let small = try WorldSample(WorldConfiguration(customers: 20, years: 1, seed: 5))
        let large = try WorldSample(WorldConfiguration(customers: 60, years: 1, seed: 5))
        let id = "C-100007"
        let events = try #require(small.byCustomer[id])
        #expect(!events.isEmpty)
        #expect(events.map(\.event) == large.byCustomer[id]?.map(\.event))
    }

    @Test func everyEventValidatesAndTheChainVerifies() throws {
        // Given a world of 300 customers over 2 years written into an in-memory journal
        let writer = try JournalDatabase.inMemory(options: { var o = JournalDatabase.Options(); o.durability = .off; return o }())
        var reports: [WorldProgress] = []
        let summary = try WorldGenerator.write(WorldConfiguration(customers: 300, years: 2, seed: 3), using: { clock in
            try EventStore(writer: writer, clock: clock)
        }, progress: { reports.append($0) })
        // Then every event was accepted, the chain verifies, and the log is sound
        let store = try EventStore(writer: writer)
        let stats = try store.stats()
        #expect(stats.events == Int64(summary.events) && stats.customers == Int64(summary.customers))
        #expect(summary.customers == 300)
        #expect(try store.verify().isIntact)
        let log = try store.events(after: 0, limit: 1_000_000)
        #expect(TestEvents.problems(in: log) == [])
        // recordedAt never goes back and is never before occurredAt; one transaction per night.
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.recorded <= $1.recorded })
        #expect(log.allSatisfy { $0.recorded > $0.occurred })
        #expect(Set(log.map(\.recorded)).count == summary.nights)
        #expect(log.allSatisfy { $0.recorded.microseconds % 86_400_000_000 == 2 * 3_600_000_000 })
        #expect(reports.count == summary.nights && reports.last?.events == summary.events)
        // Within a night, customers come in order and each customer's events in order of occurrence.
        for (earlier, later) in zip(log, log.dropFirst()) where earlier.recorded == later.recorded {
            #expect(earlier.customerId <= later.customerId)
            if earlier.customerId == later.customerId { #expect(earlier.occurred <= later.occurred) }
        }
    }

    @Test func aJournalThatHoldsEventsIsRefused() throws {
        let writer = try JournalDatabase.inMemory()
        let configuration = WorldConfiguration(customers: 3, years: 1, seed: 1)
        try WorldGenerator.write(configuration) { clock in try EventStore(writer: writer, clock: clock) }
        #expect(throws: JournalError.self) {
            try WorldGenerator.write(configuration) { clock in try EventStore(writer: writer, clock: clock) }
        }
    }

    @Test(arguments: [
        (WorldConfiguration(customers: 0), "--customers must be between 1 and 5,000,000, got 0"),
        (WorldConfiguration(customers: 5_000_001), "--customers must be between 1 and 5,000,000, got 5000001"),
        (WorldConfiguration(years: 0), "--years must be between 1 and 30, got 0"),
        (WorldConfiguration(years: -2), "--years must be between 1 and 30, got -2"),
        (WorldConfiguration(start: "2023-02-30"), "--start must be a date YYYY-MM-DD, got \"2023-02-30\""),
        (WorldConfiguration(start: "1.1.2023"), "--start must be a date YYYY-MM-DD, got \"1.1.2023\""),
    ])
    func badConfigurationsAreRefusedWithAnInstruction(configuration: WorldConfiguration, message: String) {
        #expect(configuration.problem == message)
        #expect(throws: JournalError.invalidArgument(message)) { try WorldGenerator(configuration) }
    }

    @Test func identifiersFollowTheirPatterns() throws {
        let sample = try WorldSample.shared.get()
        let customers = Set(sample.events.map { $0.event.customerId! })
        #expect(customers.count == sample.summary.customers)
        #expect(customers.allSatisfy { $0.wholeMatch(of: /C-1\d{5}/) != nil })
        #expect(sample.events.allSatisfy { $0.event.assetId.map { $0.wholeMatch(of: /SN-[A-Z0-9]+-1\d{7}/) != nil } ?? true })
        #expect(sample.events.allSatisfy { $0.event.caseId.map { $0.wholeMatch(of: /CASE-1\d{5}-\d{4,}/) != nil } ?? true })
        #expect(Set(sample.events.map(\.event.eventId)).count == sample.events.count)
        // Business times carry the local offset of Central, Western or Eastern Europe, summer time included.
        let offsets = Set(sample.events.map { String($0.event.occurredAt.suffix(6)) })
        #expect(offsets.isSuperset(of: ["+01:00", "+02:00"]) && offsets.isSubset(of: ["+00:00", "+01:00", "+02:00", "+03:00"]))
    }
}
