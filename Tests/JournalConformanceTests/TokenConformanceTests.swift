import Foundation
import Journal
import JournalPostgres
import JournalStore
import JournalTesting
import Testing

/// Tokens and sessions (``TokenStore``), checked by the same code against the SQLite journal and
/// against PostgreSQL, where every server on the database shares them.
enum TokenConformance {
    static let start = Timestamp.seconds(1_772_438_400)

    /// Creating, listing, identifying and revoking; sessions that expire, end, and die with their token.
    static func tokensAndSessions(_ tokens: some TokenStore, setTime: @Sendable (Timestamp) -> Void) async throws {
        let (desk, deskSecret) = try await tokens.create(name: "  hotline desk 3 ", role: .staff)
        #expect(desk.name == "hotline desk 3" && desk.role == .staff && desk.created == start)
        #expect(AccessSecret.isToken(deskSecret))
        await #expect(throws: AccessSecret.nameTaken("hotline desk 3")) { _ = try await tokens.create(name: "hotline desk 3", role: .admin) }
        await #expect(throws: JournalError.invalidArgument("a token needs a name of 1 to 100 characters (who or what uses it)")) {
            _ = try await tokens.create(name: "   ", role: .admin)
        }
        setTime(Timestamp(microseconds: start.microseconds + 1_000_000))
        let (audit, auditSecret) = try await tokens.create(name: "auditor", role: .auditor)
        #expect(try await tokens.list().map(\.id) == [audit.id, desk.id])
        #expect(try await tokens.identify(deskSecret) == desk)
        #expect(try await tokens.identify(AccessSecret.newToken()) == nil)
        #expect(try await tokens.identify("not a token") == nil)

        let session = try await tokens.startSession(for: desk, seconds: 60)
        #expect(try await tokens.session(session) == desk)
        setTime(Timestamp(microseconds: start.microseconds + 62_000_000))
        #expect(try await tokens.session(session) == nil)
        let second = try await tokens.startSession(for: desk, seconds: 60)
        try await tokens.endSession(second)
        #expect(try await tokens.session(second) == nil)
        let third = try await tokens.startSession(for: desk, seconds: 60)

        let revoked = try await tokens.revoke("hotline desk 3")
        #expect(revoked.id == desk.id && revoked.revoked != nil)
        #expect(try await tokens.identify(deskSecret) == nil)
        #expect(try await tokens.session(third) == nil)
        #expect(try await tokens.isActive(id: desk.id) == false)
        #expect(try await tokens.isActive(id: audit.id))
        await #expect(throws: AccessSecret.noActiveToken("hotline desk 3")) { _ = try await tokens.revoke("hotline desk 3") }
        // The name is free again once its token is revoked; revoking by id works as by name.
        let (again, _) = try await tokens.create(name: "hotline desk 3", role: .staff)
        #expect(try await tokens.revoke(again.id).id == again.id)
        #expect(try await tokens.identify(auditSecret) == audit)
        #expect(try await tokens.list().filter { $0.revoked == nil }.map(\.id) == [audit.id])
    }
}

@Suite struct SQLiteTokenConformanceTests {
    @Test func tokensAndSessions() async throws {
        let (clock, setTime) = JournalClock.manual(TokenConformance.start)
        let path = TestSupport.temporaryDirectory("tpj-tokens").appendingPathComponent("j.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path), clock: clock)
        try await TokenConformance.tokensAndSessions(AccessTokens(store: store), setTime: setTime)
    }
}

@Suite(.enabled(if: PostgresServer.isAvailable, Comment(rawValue: PostgresServer.unavailable)))
struct PostgresTokenConformanceTests {
    @Test func tokensAndSessions() async throws {
        let (clock, setTime) = JournalClock.manual(TokenConformance.start)
        try await PostgresJournal.withJournal(url: PostgresServer.shared().newDatabase(), clock: clock) { journal in
            try await TokenConformance.tokensAndSessions(PostgresAccessTokens(journal: journal), setTime: setTime)
        }
    }

    /// Two servers on one database know the same tokens: one made on the first is known to the second,
    /// and revoked there, it stops working on the first.
    @Test func twoJournalsOnOneDatabaseShareTokens() async throws {
        let url = try PostgresServer.shared().newDatabase()
        try await PostgresJournal.withJournal(url: url) { first in
            try await PostgresJournal.withJournal(url: url) { second in
                let (token, secret) = try await PostgresAccessTokens(journal: first).create(name: "producer", role: .ingest)
                #expect(try await PostgresAccessTokens(journal: second).identify(secret) == token)
                _ = try await PostgresAccessTokens(journal: second).revoke("producer")
                #expect(try await PostgresAccessTokens(journal: first).identify(secret) == nil)
            }
        }
    }
}
