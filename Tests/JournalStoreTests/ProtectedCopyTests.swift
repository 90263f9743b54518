import Foundation
import GRDB
import Journal
@_spi(Benchmarks) import JournalStore
import JournalTesting
import Testing

/// A journal written before sealing, copied into one that seals: the same events and as-of answers,
/// no plaintext in the new files, and a signed statement that links both heads.
@Suite struct ProtectedCopyTests {
    static func filesHold(_ text: String, in directory: URL, prefix: String) throws -> Bool {
        let needle = Data(text.utf8)
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix(prefix) }
            .contains { try Data(contentsOf: $0).range(of: needle) != nil }
    }

    @Test func anUnsealedJournalIsCopiedSealedWithASignedStatement() throws {
        let directory = TestSupport.temporaryDirectory("tpj-copy")
        let oldPath = directory.appendingPathComponent("old.sqlite").path, newPath = directory.appendingPathComponent("new.sqlite").path
        // Given a journal whose personal values are in the clear,
        let oldWriter = try JournalDatabase.open(path: oldPath)
        _ = try DemoWorld.write { clock in try EventStore(writer: oldWriter, clock: clock, sealing: false) }
        let old = try EventStore(writer: oldWriter)
        try oldWriter.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        #expect(try Self.filesHold("Martina Huber", in: directory, prefix: "old.sqlite"))
        // when it is copied,
        let new = try EventStore(writer: JournalDatabase.open(path: newPath))
        let statement = try ProtectedCopy(from: old, to: new).run()
        // the copy holds the same events in the same order, as known at the same times,
        let before = try old.events(after: 0, limit: 10_000), after = try new.events(after: 0, limit: 10_000)
        #expect(after.count == before.count && statement.events == Int64(before.count) && statement.toHead == Int64(after.count))
        #expect(after.map(\.eventId) == before.map(\.eventId) && after.map(\.knownAt) == before.map(\.knownAt))
        #expect(after.map { new.disclosure().event($0).payloadJSON } == before.map(\.payloadJSON))
        #expect(after.map { new.disclosure().event($0).actor } == before.map(\.actor))
        let asOf = try Timestamp(utcDate: "2024-06-01")
        #expect(try new.history(of: "C-1001", knownAt: asOf).map(\.eventId) == old.history(of: "C-1001", knownAt: asOf).map(\.eventId))
        // sealed: no plaintext in the new journal's files,
        try new.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        for plaintext in ["Martina Huber", "m.huber@hoffmann-praezision.example", "S. Vogel"] {
            #expect(try !Self.filesHold(plaintext, in: directory, prefix: "new.sqlite"), "\(plaintext) is in the copy")
        }
        // and the statement is signed by the new journal's key over both heads, which verify.
        let signedByNew = try statement.isSigned(byKeyOf: new)
        #expect(statement.signatureIsValid && signedByNew)
        #expect(try old.checkAnchor(position: statement.fromHead, hash: statement.fromHash) == nil)
        #expect(try new.checkAnchor(position: statement.toHead, hash: statement.toHash) == nil)
        #expect(try new.verify().isIntact)
        let read = try ProtectedCopy.Statement(document: JSONParser.parse(CanonicalJSON.string(statement.document)))
        #expect(read == statement)
        var forged = statement
        forged.fromHead -= 1
        #expect(!forged.signatureIsValid)
        // A second copy into a journal that holds events is refused.
        #expect(throws: JournalError.invalidArgument("the target journal holds events; a protected copy goes into a new journal")) {
            try ProtectedCopy(from: old, to: new).run()
        }
    }
}
