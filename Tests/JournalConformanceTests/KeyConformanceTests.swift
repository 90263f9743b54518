import Foundation
import Journal
import JournalPostgres
import JournalStore
import JournalTesting
import Testing

/// The keys as rows (``KeyMaterialStore``), checked by the same code against a key file and against
/// PostgreSQL: what a verbatim copy of a journal takes along with its log.
enum KeyConformance {
    static let start = Timestamp.seconds(1_772_438_400)
    static let anna = DataKeyScope(subject: .customer("C-1"), kind: .contact, year: 2025)
    static let note = DataKeyScope(subject: .customer("C-1"), kind: .text, year: 2026)
    static let technician = DataKeyScope(subject: .employee("L. Marchetti"), kind: .employee, year: 2025)

    /// Keys taken in come out as they went in, and a copy of them opens what they sealed; the same
    /// rows again change nothing; another journal's keys are refused; an erasure taken in destroys
    /// the subject's keys and pseudonym key, but not keys made for it after the erasure.
    ///
    /// - Parameter store: the store under test, made for keys with the given secrets.
    static func rowsGoInAndComeOut(_ store: (KeyMaterial) async throws -> any KeyMaterialStore) async throws {
        let (clock, setTime) = JournalClock.manual(start)
        let source = try KeyStore(path: nil, clock: clock)
        try source.makeKeys(for: [anna, note, technician])
        let sealedName = try source.seal("Anna Muster", scope: anna)
        let sealedTechnician = try source.seal("L. Marchetti", scope: technician)
        let secrets = try source.material()
        let keys = try await store(KeyMaterial(storeSecret: secrets.storeSecret, signingKey: secrets.signingKey))

        try await keys.takeIn(source.material())
        let taken = try await keys.keyMaterial()
        #expect(taken.storeSecret == secrets.storeSecret)
        #expect(Set(taken.dataKeys) == Set(secrets.dataKeys) && taken.dataKeys.count == 3)
        #expect(Set(taken.subjects) == Set(secrets.subjects) && taken.subjects.count == 2)
        let copy = try KeyStore(copying: taken)
        #expect(copy.open(sealedName) == "Anna Muster")
        #expect(copy.pseudonym(sealedName) == source.pseudonym(sealedName))
        #expect(try copy.seal("Anna Muster", scope: anna) == sealedName)

        try await keys.takeIn(source.material())
        #expect(try await keys.keyMaterial() == taken)

        let other = try KeyStore(path: nil, clock: clock)
        try other.makeKeys(for: [anna])
        await #expect(throws: JournalError.self) { try await keys.takeIn(other.material()) }
        #expect(try await keys.keyMaterial() == taken)

        setTime(Timestamp(microseconds: start.microseconds + 1_000_000))
        try source.erase(.customer("C-1"))
        setTime(Timestamp(microseconds: start.microseconds + 2_000_000))
        let renewed = DataKeyScope(subject: .customer("C-1"), kind: .contact, year: 2027)
        try source.makeKeys(for: [renewed])
        let sealedLater = try source.seal("Anna Muster", scope: renewed)
        try await keys.takeIn(source.material())
        let erased = try await keys.keyMaterial()
        let c1 = source.subjectHash(of: .customer("C-1"))
        #expect(Set(erased.destroyed.map(\.keyId)) == Set(taken.dataKeys.filter { $0.subjectHash == c1 }.map(\.keyId)))
        #expect(erased.erasedSubjects == [KeyMaterial.ErasedSubject(subjectHash: c1, erasedAtUs: start.microseconds + 1_000_000)])
        #expect(erased.dataKeys.count == 2 && erased.subjects.count == 2)
        let afterErasure = try KeyStore(copying: erased)
        #expect(afterErasure.open(sealedName) == KeyStore.erasedText)
        #expect(afterErasure.open(sealedTechnician) == "L. Marchetti")
        #expect(afterErasure.open(sealedLater) == "Anna Muster")
        // Taking the erasure in again destroys nothing more: not the key made after it.
        try await keys.takeIn(source.material())
        #expect(try await keys.keyMaterial() == erased)
    }
}

@Suite struct SQLiteKeyConformanceTests {
    @Test func rowsGoInAndComeOut() async throws {
        let path = TestSupport.temporaryDirectory("tpj-keys").appendingPathComponent("journal.sqlite-keys").path
        try await KeyConformance.rowsGoInAndComeOut { secrets in try KeyStore.create(at: path, from: secrets) }
    }

    /// A copy of shared keys neither makes nor destroys keys itself: both happen where the keys are kept.
    @Test func aCopyOfSharedKeysMakesAndDestroysNone() throws {
        let source = try KeyStore(path: nil)
        let copy = try KeyStore(copying: source.material())
        #expect(copy.isCopy && !source.isCopy)
        #expect(throws: JournalError.self) { try copy.makeKeys(for: [KeyConformance.anna]) }
        #expect(throws: JournalError.self) { try copy.erase(.customer("C-1")) }
        #expect(throws: JournalError.self) { try KeyStore(copying: KeyMaterial()) }
        // What it is proposed, once taken in, it seals with.
        try copy.adopt(copy.proposeKeys(for: [KeyConformance.anna]))
        #expect(copy.proposeKeys(for: [KeyConformance.anna]).isEmpty)
        #expect(try copy.seal("Anna Muster", scope: KeyConformance.anna).hasPrefix(KeyStore.sealedPrefix))
    }
}

@Suite(.enabled(if: PostgresServer.isAvailable, Comment(rawValue: PostgresServer.unavailable)))
struct PostgresKeyConformanceTests {
    @Test func rowsGoInAndComeOut() async throws {
        try await PostgresJournal.withJournal(url: PostgresServer.shared().newDatabase()) { journal in
            try await KeyConformance.rowsGoInAndComeOut { _ in PostgresKeys(journal: journal) }
        }
    }

    /// Nodes on one database share keys: proposals for the same scopes, made at once on eight nodes,
    /// end with one key per scope on every node; a node that follows the changes learns of keys and
    /// of an erasure made on another, and misses none of them.
    @Test func nodesAgreeOnEveryKeyAndLearnOfErasures() async throws {
        let url = try PostgresServer.shared().newDatabase()
        try await PostgresJournal.withJournal(url: url) { journal in
            let keys = PostgresKeys(journal: journal)
            let secrets = try await keys.secrets()
            #expect(try await keys.secrets() == secrets)
            let nodes = try (0..<8).map { _ in try KeyStore(copying: secrets) }
            let scopes = (0..<40).map { DataKeyScope(subject: .customer("C-\($0 % 10)"), kind: $0 < 20 ? .contact : .text, year: 2020 + $0 % 3) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, node) in nodes.enumerated() {
                    let mine = Set(scopes.shuffled().prefix(25 + index))
                    group.addTask { try await node.adopt(keys.store(node.proposeKeys(for: mine))) }
                }
                try await group.waitForAll()
            }
            let (all, through) = try await keys.changes(after: 0)
            let wanted = Set(scopes.map { DataKeyScope(subject: $0.subject, kind: $0.kind, year: $0.year) })
            #expect(all.dataKeys.count == wanted.count)
            for node in nodes {
                try node.adopt(all)
                for scope in wanted {
                    #expect(try node.seal("value", scope: scope) == nodes[0].seal("value", scope: scope))
                }
            }

            // Erased through one node; another learns of it from the changes after what it had seen.
            let sealed = try nodes[1].seal("Anna Muster", scope: scopes[0])
            let destruction = try await keys.erase(subjectHash: nodes[0].subjectHash(of: scopes[0].subject))
            #expect(destruction.destroyed.count == all.dataKeys.filter { $0.subjectHash == nodes[0].subjectHash(of: scopes[0].subject) }.count)
            try nodes[0].adopt(destruction)
            #expect(nodes[0].open(sealed) == KeyStore.erasedText)
            #expect(nodes[1].open(sealed) == "Anna Muster")
            let (changes, later) = try await keys.changes(after: through)
            #expect(later > through && changes.dataKeys.isEmpty && changes.destroyed.count == destruction.destroyed.count)
            try nodes[1].adopt(changes)
            #expect(nodes[1].open(sealed) == KeyStore.erasedText)
            #expect(try await keys.changes(after: later).material.isEmpty)
            // A key proposed again for an erased scope is a new one; the destroyed one never comes back.
            try await nodes[1].adopt(keys.store(nodes[1].proposeKeys(for: [scopes[0]])))
            let sealedAgain = try nodes[1].seal("Anna Muster", scope: scopes[0])
            #expect(sealedAgain != sealed && nodes[1].open(sealed) == KeyStore.erasedText)
            // A node that has not heard of the erasure yet, making a key of another year for the
            // subject, gets the subject as made again (a new pseudonym key), forgets the old keys at
            // once, and keeps the new ones when the erasure comes.
            let pseudonym = nodes[2].pseudonym(sealed)
            let anotherYear = DataKeyScope(subject: scopes[0].subject, kind: scopes[0].kind, year: 2030)
            try await nodes[2].adopt(keys.store(nodes[2].proposeKeys(for: [anotherYear])))
            #expect(nodes[2].open(sealed) == KeyStore.erasedText)
            #expect(nodes[2].open(sealedAgain) == "Anna Muster" && nodes[2].pseudonym(sealedAgain) != pseudonym)
            try await nodes[2].adopt(keys.changes(after: through).material)
            #expect(nodes[2].open(sealedAgain) == "Anna Muster")
            #expect(try nodes[2].seal("Anna Muster", scope: scopes[0]) == sealedAgain)
        }
    }
}
