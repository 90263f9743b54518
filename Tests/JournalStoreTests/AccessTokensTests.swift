import Foundation
import GRDB
import Journal
import JournalTesting
import Synchronization
import Testing

@testable import JournalStore

@Suite struct AccessTokensTests {
    /// Answers kept by ``CachedTokens`` hold until it forgets them: a token revoked behind its back
    /// still identifies until then, one revoked through it stops at once; an unknown secret is never kept.
    @Test func cachedTokensAnswerFromMemoryUntilTheyForget() async throws {
        let store = try EventStore(writer: JournalDatabase.inMemory())
        let base = AccessTokens(store: store)
        let cached = CachedTokens(base)
        let (desk, deskSecret) = try base.create(name: "desk", role: .staff)
        let (audit, auditSecret) = try base.create(name: "audit", role: .auditor)
        #expect(try await cached.identify(deskSecret) == desk)
        #expect(try await cached.isActive(id: desk.id))
        _ = try base.revoke("desk")
        #expect(try await cached.identify(deskSecret) == desk)
        #expect(try await cached.isActive(id: desk.id))
        cached.forget()
        #expect(try await cached.identify(deskSecret) == nil)
        #expect(try await cached.isActive(id: desk.id) == false)

        #expect(try await cached.identify(auditSecret) == audit)
        _ = try await cached.revoke("audit")
        #expect(try await cached.identify(auditSecret) == nil)
        let unknown = AccessSecret.newToken()
        #expect(try await cached.identify(unknown) == nil)
        let (late, lateSecret) = try base.create(name: "late", role: .staff)
        #expect(try await cached.identify(lateSecret) == late)
    }

    /// The journal's migrations make the tokens' tables: a token can be made on a journal no server
    /// ever opened, and a journal whose tables an older server made migrates without a change to them.
    @Test func theMigrationsMakeTheTokensTablesAndKeepOnesAlreadyMade() throws {
        let fresh = try EventStore(writer: JournalDatabase.inMemory())
        let (token, secret) = try AccessTokens(store: fresh).create(name: "hotline", role: .staff)
        #expect(try AccessTokens(store: fresh).identify(secret) == token)

        // As a server before the migration left a journal: its own tables, one token in them.
        let queue = try DatabaseQueue()
        var before = JournalSchema.migrator
        try before.migrate(queue, upTo: "v7-access-log")
        try queue.write { db in
            try db.execute(sql: JournalSchema.v8)
            try db.execute(sql: "INSERT INTO access_token (id, name, role, hash, createdAtUs) VALUES ('t1', 'old', 'admin', 'h', 1)")
        }
        before = JournalSchema.migrator
        try before.migrate(queue)
        #expect(try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM access_token") } == ["old"])
        #expect(try queue.read { db in try before.appliedIdentifiers(db).contains("v8-access-tokens") })
    }

    /// A lookup held open (as by a read that lost its core) does not hold up another one, and idle
    /// connections are used again rather than opened anew.
    @Test func aTokenLookupNeverWaitsForAnotherInProgress() throws {
        let path = TestSupport.temporaryDirectory("tpj-tokens").appendingPathComponent("journal.sqlite").path
        let tokens = AccessTokens(store: try EventStore(writer: try JournalDatabase.open(path: path, create: true)))
        let (token, secret) = try tokens.create(name: "hotline", role: .staff)
        let lookups = LookupConnections(path: path)
        let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), answered = DispatchSemaphore(value: 0)
        Thread { _ = try? lookups.read { _ in held.signal(); release.wait() } }.start()
        held.wait()
        let found = Mutex<Int?>(nil)
        Thread {
            found.withLock { $0 = try? lookups.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM access_token") } }
            answered.signal()
        }.start()
        let answeredWhileHeld = answered.wait(timeout: .now() + 10) == .success
        release.signal()
        if !answeredWhileHeld { answered.wait() }
        #expect(answeredWhileHeld)
        #expect(found.withLock { $0 } == 1)
        #expect(lookups.opened == 2)
        for _ in 0..<20 { _ = try lookups.read { try Int.fetchOne($0, sql: "SELECT 1") } }
        #expect(lookups.opened == 2)
        #expect(try tokens.identify(secret)?.id == token.id)
    }
}
