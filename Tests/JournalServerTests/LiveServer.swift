import Foundation
import Journal
@testable import JournalProjections
import JournalServer
import JournalStore
import JournalTesting
import JournalWorld
import Logging
import ServiceLifecycle

/// A real `tpj` server on a loopback port over a generated world, with one token per role.
final class LiveServer: Sendable {
    let store: EventStore
    let journal: JournalServer
    let port: Int
    let tokens: [Role: String]
    let directory: URL
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(store: EventStore, journal: JournalServer, port: Int, tokens: [Role: String], directory: URL, group: ServiceGroup, task: Task<Void, any Error>) {
        self.store = store
        self.journal = journal
        self.port = port
        self.tokens = tokens
        self.directory = directory
        self.group = group
        self.task = task
    }

    /// Generates a world of `customers` × one year, folds the projections and starts listening on a free port.
    static func start(
        customers: Int = 30, years: Int = 1, start: String = "2024-01-01", declared: [DeclaredProjection] = [],
        settings: ServerSettings = ServerSettings(host: "127.0.0.1", port: 0)
    ) async throws -> LiveServer {
        let directory = TestSupport.temporaryDirectory("tpj-server")
        let path = directory.appendingPathComponent("journal.sqlite").path
        let writer = try JournalDatabase.open(path: path, create: true)
        _ = try WorldGenerator.write(WorldConfiguration(customers: customers, years: years, seed: 5, start: start)) { clock in
            try EventStore(writer: writer, clock: clock)
        }
        let store = try EventStore(writer: writer)
        let server = try JournalServer(store: store, declared: declared, settings: settings)
        try server.prepare()
        let accessTokens = AccessTokens(store: store)
        var tokens: [Role: String] = [:]
        for role in Role.allCases { tokens[role] = try accessTokens.create(name: "test \(role.rawValue)", role: role).secret }
        var logger = Logger(label: "tpj-test")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = server.application(logger: logger) { port in continuation.yield(port) }
        let group = ServiceGroup(services: [application], logger: logger)
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HTTPTestError("the server did not start") }
        return LiveServer(store: store, journal: server, port: port, tokens: tokens, directory: directory, group: group, task: task)
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// A session of the pages for `role`'s token, as signing in starts one; returns the cookie's value.
    func session(for role: Role) throws -> String {
        let tokens = AccessTokens(store: store)
        guard let secret = self.tokens[role], let token = try tokens.identify(secret) else { throw HTTPTestError("no \(role) token") }
        return try tokens.startSession(for: token, seconds: 3_600)
    }

    /// A request on a fresh connection; `role` picks the bearer token (nil: none).
    func request(_ method: String, _ path: String, role: Role? = nil, token: String? = nil, headers: [String: String] = [:],
                 body: String? = nil) async throws -> HTTPTestResponse {
        var headers = headers
        if let secret = token ?? role.flatMap({ tokens[$0] }) { headers["Authorization"] = "Bearer \(secret)" }
        let port = port, allHeaders = headers
        return try await offloadTest {
            try HTTPTestClient.send(port: port, method: method, path: path, headers: allHeaders, body: body.map { Array($0.utf8) })
        }
    }
}

/// Checks `condition` every few milliseconds until it holds; fails after a minute. What it waits for is
/// the server's progress, not a time: a slow machine only takes more checks.
func eventually(_ what: String, _ condition: () -> Bool) async throws {
    for _ in 0..<12_000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw HTTPTestError("never happened: \(what)")
}

/// Runs blocking socket work off the test's task.
func offloadTest<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
