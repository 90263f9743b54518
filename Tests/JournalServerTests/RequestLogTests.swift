import Foundation
import Hummingbird
import Journal
import Logging
import Synchronization
import Testing

@testable import JournalServer

/// The request log names the token that made each request, never a secret.
struct RequestLogTests {
    /// Keeps every line logged, with its metadata.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    struct Capture: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.append("\(event.message) \(fields)")
        }
    }

    @Test func secretsInTheQueryAreRedactedAndTheTokenIsNamed() async throws {
        let lines = Lines()
        let router = Router(context: JournalRequestContext.self)
        router.add(middleware: ReadAdmissionTests.SignedIn())
        router.add(middleware: RequestLog(errors: ErrorBodies(routes: RouteMethods())))
        router.get("/v1/probe") { _, _ in "ok" }
        router.get("/v1/fails") { _, _ -> String in throw APIError.notFound("nothing here") }
        let logger = Logger(label: "capture") { _ in Capture(lines: lines) }
        var statuses: [Int] = []
        try await LoopbackServer.serving(router, logger: logger) { (port: Int) async throws in
            statuses.append(try await ReadAdmissionTests.get(port, "/v1/probe?token=tpj_secret1&x=1&Access_Token=tpj_secret2").status)
            statuses.append(try await ReadAdmissionTests.get(port, "/v1/fails?access%5Ftoken=tpj_secret3").status)
        }
        #expect(statuses == [200, 404])
        let requests = lines.all.filter { $0.hasPrefix("request ") }
        #expect(requests.count == 2)
        #expect(requests.first?.contains("target=/v1/probe?token=REDACTED&x=1&Access_Token=REDACTED") == true, "\(requests)")
        #expect(requests.first?.contains("status=200") == true && requests.first?.contains("token=test (t)") == true)
        #expect(requests.last?.contains("target=/v1/fails?access%5Ftoken=REDACTED") == true && requests.last?.contains("status=404") == true)
        #expect(!lines.all.joined().contains("tpj_secret"))
    }
}
