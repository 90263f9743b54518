import Hummingbird
import Logging
import ServiceLifecycle

/// A router served on a free loopback port while a test's body runs.
enum LoopbackServer {
    static func serving<Context: RequestContext>(_ router: Router<Context>, logger: Logger? = nil, _ body: (Int) async throws -> Void) async throws
    where Context.Source == ApplicationRequestContextSource {
        let logger = logger ?? {
            var quiet = Logger(label: "tpj-test")
            quiet.logLevel = .warning
            return quiet
        }()
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(services: [application], logger: logger)
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HTTPTestError("the test server did not start") }
        do {
            try await body(port)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// A second web server on another loopback port: another origin of the same site, as an attacker's
/// page on the same host would be.
enum OtherOrigin {
    /// Serves `html` at `/` while `body` runs with the port.
    static func serving(html: String, _ body: (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        }
        try await LoopbackServer.serving(router, body)
    }
}
