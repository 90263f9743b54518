import Foundation
import JournalStore
import JournalTesting
import Testing

/// The commands that take a journal in PostgreSQL, on a throw-away server (``PostgresServer``).
@Suite(.enabled(if: PostgresServer.isAvailable, Comment(rawValue: PostgresServer.unavailable)))
struct PostgresCommandTests {
    /// A journal copied into PostgreSQL; the server, the database's name and its URL.
    func journalInPostgres(_ label: String) throws -> (server: PostgresServer, database: String, url: String) {
        let server = try PostgresServer.shared()
        let url = try server.newDatabase()
        let database = String(try #require(URLComponents(string: url)).path.dropFirst())
        let directory = TestSupport.temporaryDirectory(label)
        let journal = directory.appendingPathComponent("journal.sqlite").path
        let demo = try TestSupport.runTPJ(["demo", "--customers", "4", "--years", "1", "--db", journal], in: directory)
        #expect(demo.status == 0, "\(demo.stderr)")
        let copy = try TestSupport.runTPJ(["copy", "--db", journal, "--to", url], in: directory)
        #expect(copy.status == 0, "\(copy.stderr)")
        return (server, database, url)
    }

    /// `tpj copy` takes the keys along both ways: a journal copied into PostgreSQL and back discloses
    /// the same personal values; an erasure in the source reaches both copies when the copy is resumed;
    /// a database holding another journal's keys is refused.
    @Test func aCopyTakesTheKeysAlong() throws {
        let url = try PostgresServer.shared().newDatabase()
        let directory = TestSupport.temporaryDirectory("tpj-pg-keys")
        let source = directory.appendingPathComponent("journal.sqlite").path
        let back = directory.appendingPathComponent("back.sqlite").path
        #expect(try TestSupport.runTPJ(["demo", "--customers", "4", "--years", "1", "--db", source], in: directory).status == 0)
        func exported(_ journal: String) throws -> String {
            let export = try TestSupport.runTPJ(["export", "events", "--db", journal], in: directory)
            #expect(export.status == 0, "\(export.stderr)")
            return export.stdout
        }
        let into = try TestSupport.runTPJ(["copy", "--db", source, "--to", url, "--json"], in: directory)
        #expect(into.status == 0 && into.stdout.contains(#""keys":{"dataKeys":"#), "\(into.stdout)\(into.stderr)")
        let out = try TestSupport.runTPJ(["copy", "--db", url, "--to", back], in: directory)
        #expect(out.status == 0 && out.stdout.contains("copied with the log"), "\(out.stdout)\(out.stderr)")
        let original = try exported(source)
        #expect(original.contains(#""technician":""#) && !original.contains(KeyStore.sealedPrefix))
        #expect(try exported(back) == original)

        let customer = try #require(original.firstMatch(of: /"customerId":"(C-[0-9]+)"/)?.output.1)
        let erased = try TestSupport.runTPJ(["erase", "--customer", String(customer), "--reason", "REQ-7", "--db", source], in: directory)
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(try TestSupport.runTPJ(["copy", "--db", source, "--to", url], in: directory).status == 0)
        #expect(try TestSupport.runTPJ(["copy", "--db", url, "--to", back], in: directory).status == 0)
        let afterErasure = try exported(source)
        #expect(afterErasure.contains(KeyStore.erasedText) && afterErasure != original)
        #expect(try exported(back) == afterErasure)

        let other = directory.appendingPathComponent("other.sqlite").path
        #expect(try TestSupport.runTPJ(["demo", "--customers", "2", "--years", "1", "--db", other], in: directory).status == 0)
        let refused = try TestSupport.runTPJ(["copy", "--db", other, "--to", url], in: directory)
        #expect(refused.status == 74 && refused.stderr.contains("the database holds another journal's keys"), "\(refused.stderr)")
        #expect(try exported(back) == afterErasure)
    }

    /// A copy into PostgreSQL ends vacuumed and analyzed, rather than leaving the new rows to an
    /// autovacuum that would rewrite the table while the first servers run.
    @Test func aCopyLeavesTheTablesVacuumedAndAnalyzed() throws {
        let (server, database, _) = try journalInPostgres("tpj-pg-vacuum")
        try server.execute(
            """
            DO $$ BEGIN
                IF (SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('event', 'key_subject', 'data_key')
                    AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL) <> 3 THEN
                    RAISE EXCEPTION 'a table the copy filled was not vacuumed and analyzed';
                END IF;
            END $$
            """, in: database)
    }

    /// `tpj grant` gives an existing role what the application needs; that role then reads the journal.
    /// A role that does not exist is named in the error.
    @Test func grantLetsAnApplicationRoleReadTheJournal() throws {
        let (server, database, url) = try journalInPostgres("tpj-pg-grant")
        let directory = TestSupport.temporaryDirectory("tpj-pg-grant")
        let missing = try TestSupport.runTPJ(["grant", "nobody", "--db", url], in: directory)
        #expect(missing.status == 74 && missing.stderr.contains(#"role "nobody" does not exist"#), "\(missing.stderr)")

        let role = "clerk_\(database)"
        let before = try TestSupport.runTPJ(["verify", "--db", server.url(database, user: role)], in: directory)
        #expect(before.status != 0)
        try server.execute("CREATE ROLE \(role) LOGIN")
        let granted = try TestSupport.runTPJ(["grant", role, "--db", url, "--json"], in: directory)
        #expect(granted.status == 0, "\(granted.stderr)")
        #expect(granted.stdout.contains(#""role":"\#(role)""#))
        let verified = try TestSupport.runTPJ(["verify", "--db", server.url(database, user: role)], in: directory)
        #expect(verified.status == 0 && verified.stdout.contains("hash chain intact"), "\(verified.stdout)\(verified.stderr)")
    }

    /// `tpj token` keeps the tokens in the database, where every server on it finds them.
    @Test func tokensLiveInTheDatabase() throws {
        let (_, _, url) = try journalInPostgres("tpj-pg-tokens")
        let directory = TestSupport.temporaryDirectory("tpj-pg-tokens")
        let created = try TestSupport.runTPJ(["token", "create", "--role", "staff", "--name", "desk 3", "--db", url, "--json"], in: directory)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains(#""name":"desk 3""#) && created.stdout.contains(#""token":"tpj_"#))
        let twice = try TestSupport.runTPJ(["token", "create", "--role", "staff", "--name", "desk 3", "--db", url], in: directory)
        #expect(twice.status != 0 && twice.stderr.contains(#"an active token is already named "desk 3""#), "\(twice.stderr)")
        let listed = try TestSupport.runTPJ(["token", "list", "--db", url], in: directory)
        #expect(listed.status == 0 && listed.stdout.contains("desk 3") && listed.stdout.contains("staff"), "\(listed.stdout)")
        let revoked = try TestSupport.runTPJ(["token", "revoke", "desk 3", "--db", url], in: directory)
        #expect(revoked.status == 0 && revoked.stdout.contains(#"Revoked token"#), "\(revoked.stdout)\(revoked.stderr)")
    }

    /// `tpj verify --anchor` checks an anchor kept outside against the journal in PostgreSQL; the
    /// options that need a journal file are refused with that reason.
    @Test func verifyChecksAnAnchor() throws {
        let (_, _, url) = try journalInPostgres("tpj-pg-anchor")
        let directory = TestSupport.temporaryDirectory("tpj-pg-anchor")
        let whole = try TestSupport.runTPJ(["verify", "--db", url], in: directory)
        let anchorLine = try #require(whole.stdout.split(separator: "\n").first { $0.hasPrefix("Anchor: ") })
        let anchor = String(anchorLine.dropFirst("Anchor: ".count))
        let position = try #require(Int(anchor.split(separator: ":")[0]))
        let held = try TestSupport.runTPJ(["verify", "--db", url, "--anchor", anchor], in: directory)
        #expect(held.status == 0 && held.stdout.contains("hash chain intact"), "\(held.stdout)\(held.stderr)")

        let rewritten = "\(position):" + String(repeating: "ab", count: 32)
        let changed = try TestSupport.runTPJ(["verify", "--db", url, "--anchor", rewritten], in: directory)
        #expect(changed.status == 1 && changed.stdout.contains("TAMPERED: position \(position): hash "), "\(changed.stdout)")
        let beyond = try TestSupport.runTPJ(["verify", "--db", url, "--anchor", "\(position + 5):" + anchor.split(separator: ":")[1]], in: directory)
        #expect(beyond.status == 1 && beyond.stdout.contains("the anchored event \(position + 5) is missing"), "\(beyond.stdout)")
        let partial = try TestSupport.runTPJ(["verify", "--db", url, "--from", "2"], in: directory)
        #expect(partial.status == 64 && partial.stderr.contains("--from, --to and --head need a journal file"), "\(partial.stderr)")
    }

    /// A `pg_dump` backup restored into a new database verifies, and ends at the same position and hash.
    @Test func aRestoredBackupVerifiesWithTheSameHead() throws {
        let (server, database, url) = try journalInPostgres("tpj-pg-backup")
        let directory = TestSupport.temporaryDirectory("tpj-pg-backup")
        let dump = server.directory + "/\(database).dump"
        try server.runProgram("pg_dump", ["--format=custom", "--file", dump, database])
        try server.execute("CREATE DATABASE \(database)_restored")
        try server.runProgram("pg_restore", ["--exit-on-error", "--dbname", "\(database)_restored", dump])
        let original = try TestSupport.runTPJ(["verify", "--db", url, "--json"], in: directory)
        let restored = try TestSupport.runTPJ(["verify", "--db", server.url("\(database)_restored"), "--json"], in: directory)
        #expect(original.status == 0 && restored.status == 0, "\(original.stderr)\(restored.stderr)")
        #expect(restored.stdout.contains(#""intact":true"#), "\(restored.stdout)")
        #expect(restored.stdout == original.stdout)
        // The restored journal keeps its rules.
        #expect(throws: (any Error).self) { try server.execute("DELETE FROM event WHERE position = 1", in: "\(database)_restored") }
    }
}
