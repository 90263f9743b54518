import ArgumentParser
import Foundation
import Journal
import JournalPostgres
import JournalStore
import Synchronization

/// Where the journal file is.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "Path to the journal file (default: $TPJ_DB, else ./journal.sqlite); `tpj serve`, `verify`, `copy`, `grant` and `token` also take a PostgreSQL URL, postgres://user@host/database.")
    var db: String?

    var path: String {
        if let db { return db }
        if let env = ProcessInfo.processInfo.environment["TPJ_DB"], !env.isEmpty { return env }
        return "journal.sqlite"
    }

    /// Opens the journal; `create: false` refuses a missing file.
    func openStore(create: Bool, clock: JournalClock = .live) throws -> EventStore {
        try openStore(at: path, create: create, clock: clock)
    }

    /// Opens the journal at `path` (another than `--db`) as this command opens its own.
    func openStore(at path: String, create: Bool, clock: JournalClock = .live) throws -> EventStore {
        if Self.isPostgres(path) {
            throw CLIError(code: 64, message: "\(path): a journal in PostgreSQL is read by `tpj serve`, `verify`, `copy`, `grant` and `token` so far; this command needs a journal file")
        }
        let store = try EventStore(writer: JournalDatabase.open(path: path, create: create), registry: registry(), clock: clock)
        OpenJournals.keep(store)
        if let missing = store.keys.missingFile {
            Output.error("warning: the key file \(missing) is missing: personal values read [erased], and nothing can be appended, erased or signed until it is restored from its backup")
        }
        return store
    }

    /// Whether `location` names a journal in PostgreSQL (`postgres://…`) rather than a file.
    static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Runs `body` with the log at `location`: a journal file, or a PostgreSQL database (`postgres://…`).
    func withLog<T: Sendable>(at location: String, create: Bool, _ body: (any JournalLog) async throws -> T) async throws -> T {
        if Self.isPostgres(location) {
            return try await PostgresJournal.withJournal(url: location) { journal in try await body(journal) }
        }
        return try await body(openStore(at: location, create: create))
    }

    /// Runs `body` with the log at `location` and its keys: a journal file and its key file (nil
    /// when that is missing), or a PostgreSQL database. A journal file made here, with no key file
    /// yet, gets one holding `newKeys` (a copy's) when they are given.
    func withLogAndKeys<T: Sendable>(
        at location: String, create: Bool, newKeys: KeyMaterial? = nil, _ body: (any JournalLog, (any KeyMaterialStore)?) async throws -> T
    ) async throws -> T {
        if Self.isPostgres(location) {
            return try await PostgresJournal.withJournal(url: location) { journal in try await body(journal, PostgresKeys(journal: journal)) }
        }
        let keyPath = KeyStore.path(of: location)
        if let newKeys, newKeys.storeSecret != nil, !FileManager.default.fileExists(atPath: location), !FileManager.default.fileExists(atPath: keyPath) {
            _ = try KeyStore.create(at: keyPath, from: newKeys)
        }
        let store = try openStore(at: location, create: create)
        return try await body(store, store.keys.missingFile == nil ? store.keys : nil)
    }

    /// Runs `body` with the tokens of the journal at `--db`: kept in its file, or in PostgreSQL.
    func withTokens<T: Sendable>(_ body: (any TokenStore) async throws -> T) async throws -> T {
        if Self.isPostgres(path) {
            return try await PostgresJournal.withJournal(url: path) { journal in try await body(PostgresAccessTokens(journal: journal)) }
        }
        return try await body(AccessTokens(store: openStore(create: false)))
    }

    func registry() throws -> SchemaRegistry {
        do {
            return try SchemaRegistry.bundled(extendedBy: ProcessInfo.processInfo.environment["TPJ_SCHEMA_DIR"])
        } catch {
            throw CLIError(code: 65, message: "TPJ_SCHEMA_DIR: \(error)")
        }
    }
}

/// The journals a command opened, closed when it ends (``EventStore/close()``), so that short-lived
/// commands leave no growing `-wal` beside the journal.
enum OpenJournals {
    private static let stores = Mutex<[EventStore]>([])

    static func keep(_ store: EventStore) {
        stores.withLock { $0.append(store) }
    }

    static func closeAll() {
        for store in stores.withLock({ list in defer { list.removeAll() }; return list }) { store.close() }
    }
}

/// `--json` for scripts.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of a human-readable table.")
    var json = false
}

/// A failure with its exit code and message, printed by ``runReportingErrors(json:_:)``.
struct CLIError: Error {
    var code: Int32
    var message: String
}

/// Parses a point in time: RFC 3339 with offset, or a date `YYYY-MM-DD` meaning 00:00 UTC that day.
struct TimeArgument: ExpressibleByArgument {
    var instant: Timestamp

    init?(argument: String) {
        guard let instant = Timestamp(instantOrDate: argument) else { return nil }
        self.instant = instant
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

extension ParsableCommand {
    /// Runs `body`, turning journal errors into a message on stderr and a meaningful exit code.
    func runReportingErrors(json: Bool, _ body: () throws -> Void) throws {
        defer { OpenJournals.closeAll() }
        do {
            try body()
        } catch {
            throw reported(error, json: json)
        }
    }

    /// ``runReportingErrors(json:_:)`` for async work.
    func runReportingErrors(json: Bool, _ body: () async throws -> Void) async throws {
        defer { OpenJournals.closeAll() }
        do {
            try await body()
        } catch {
            throw reported(error, json: json)
        }
    }

    /// Reports a journal or command error and gives its exit code; other errors pass through.
    private func reported(_ error: any Error, json: Bool) -> any Error {
        switch error {
        case let error as JournalError:
            report(code: error.exitCode, kind: error.kind, message: error.description, details: error.details, json: json)
            return ExitCode(error.exitCode)
        case let error as CLIError:
            report(code: error.code, kind: "error", message: error.message, details: [], json: json)
            return ExitCode(error.code)
        default:
            return error
        }
    }

    private func report(code: Int32, kind: String, message: String, details: [JSONMember], json: Bool) {
        if json {
            let body: JSONValue = ["error": .object([JSONMember("code", .string(kind)), JSONMember("message", .string(message))] + details)]
            Output.error(CanonicalJSON.string(body))
        } else {
            Output.error("error: " + message)
        }
    }
}

extension JournalError {
    var exitCode: Int32 {
        switch self {
        case .invalidEvent, .malformedInput, .eventIdReused, .unknownReference: 65
        case .concurrencyConflict, .clockAhead: 75
        case .journalNotFound: 66
        case .storage: 74
        case .invalidArgument: 64
        // As `tpj verify` exits when it finds an altered event.
        case .tampered: 1
        }
    }

    var kind: String {
        switch self {
        case .invalidEvent: "invalidEvent"
        case .malformedInput: "malformedInput"
        case .concurrencyConflict: "versionConflict"
        case .eventIdReused: "eventIdReused"
        case .unknownReference: "unknownReference"
        case .journalNotFound: "journalNotFound"
        case .storage: "storage"
        case .invalidArgument: "invalidArgument"
        case .clockAhead: "clockAhead"
        case .tampered: "tampered"
        }
    }

    var details: [JSONMember] {
        switch self {
        case .invalidEvent(let invalid):
            var members = [
                JSONMember("index", .number(JSONNumber(Int64(invalid.index)))), JSONMember("path", .string(invalid.path)),
                JSONMember("rule", .string(invalid.rule)),
            ]
            if let eventId = invalid.eventId { members.append(JSONMember("eventId", .string(eventId))) }
            return members
        case .concurrencyConflict(let customerId, let expected, let actual):
            return [
                JSONMember("customerId", .string(customerId)), JSONMember("expected", .string(expected.description)),
                JSONMember("actual", .number(JSONNumber(Int64(actual)))),
            ]
        case .eventIdReused(let index, let eventId, let position, _):
            return [
                JSONMember("index", .number(JSONNumber(Int64(index)))), JSONMember("eventId", .string(eventId.rawValue)),
                JSONMember("position", .number(JSONNumber(position))),
            ]
        case .malformedInput(let line, _):
            return line.map { [JSONMember("line", .number(JSONNumber(Int64($0))))] } ?? []
        default:
            return []
        }
    }
}

/// Customer ids on the command line follow the journal's identifier rules, as in the API's paths.
enum CustomerArgument {
    static func parse(_ text: String) throws -> String {
        if let problem = EventValidator.identifierProblem(text) { throw ValidationError("the customer id \(problem)") }
        return text
    }
}

/// `--masking`: the masking policy file.
struct MaskingOptions: ParsableArguments {
    @Option(name: .long, help: "A masking policy file: per role and kind, plain, pseudonym or hidden (default: $TPJ_MASKING, else the standard policy).")
    var masking: String?

    /// The policy of `--masking`, `$TPJ_MASKING`, or the standard one.
    func policy() throws -> MaskingPolicy {
        let path = masking ?? ProcessInfo.processInfo.environment["TPJ_MASKING"].flatMap { $0.isEmpty ? nil : $0 }
        return try path.map { path throws(JournalError) in try MaskingPolicy(file: path) } ?? .standard
    }
}

/// `--role` and `--masking`: how the command shows personal values.
struct ReaderOptions: ParsableArguments {
    @Option(name: .long, help: "Show personal values as this role may see them: \(MaskingPolicy.roles.joined(separator: ", ")) (default: admin for the journal's own commands, analyst for queries).")
    var role: String?

    @OptionGroup var policyFile: MaskingOptions

    func validate() throws {
        if let role, !MaskingPolicy.roles.contains(role) {
            throw ValidationError("--role must be one of \(MaskingPolicy.roles.joined(separator: ", ")), got \"\(role)\".")
        }
    }

    /// How the reader sees personal values; `defaultRole` when `--role` is not given.
    func masking(defaultRole: String = "admin") throws -> Masking {
        try policyFile.policy().masking(for: role ?? defaultRole)
    }
}
