import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The limits on the server's connections: how many may be open, and how long a client may take.
public struct ConnectionLimits: Sendable {
    /// The most connections open at once. At the cap a new connection takes the place of the one that
    /// has waited longest without a request in progress; when every connection is answering a request,
    /// the new one is closed.
    public var maxConnections: Int
    /// Seconds from the first byte of a request to the end of its head (a client sending its headers a
    /// byte at a time is closed then).
    public var headerTimeout: Double = 10
    /// Seconds a connection may stay open without a request: after it opened and between requests.
    public var idleTimeout: Double = 30
    /// Seconds a response may wait for a client that does not read it before the connection is closed
    /// (the server keeps at most the socket's buffers of it, never more).
    public var slowReaderTimeout: Double = 30

    /// The default cap: 4,096, or the process's file limit less room for the journal's files and the
    /// server's own if that is lower. Each connection is a child task of one task group, whose finished
    /// children the Swift runtime removes in time proportional to the children left: with 16,384
    /// connections held by an attacker that reconnects as fast as it is closed, appends waited over
    /// 100 ms (p99); with 4,096, under 15 ms (`tools/loadtest`, the `connections` mix).
    public static var defaultMaxConnections: Int { max(64, min(4_096, openFileLimit() - 512)) }

    public init(maxConnections: Int = ConnectionLimits.defaultMaxConnections) {
        self.maxConnections = maxConnections
    }

    /// The soft limit on open files, raised to the hard limit first.
    public static func openFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }
}

/// The server's open connections: counts them, and chooses which one to close at the cap.
final class ConnectionRegistry: Sendable {
    /// What a connection is doing, as far as the cap is concerned.
    enum Phase: Sendable {
        /// Open without a request: new, or between requests. May be closed to make room.
        case waiting
        /// Receiving a request's head. May be closed to make room.
        case readingHead
        /// A request is being read or answered. Never closed to make room.
        case inRequest
    }

    struct Counts: Sendable, Equatable {
        var open = 0
        /// Connections taken since the start.
        var accepted = 0
        /// Closed to make room for a new connection.
        var evicted = 0
        /// Closed at once: the cap was reached and every connection was answering a request.
        var refused = 0
        /// Closed because a head took longer than the header timeout.
        var headerTimeouts = 0
        /// Closed because the client did not read its response.
        var slowReaders = 0
    }

    private struct Entry {
        let channel: any Channel
        /// Completed when the client closes its side or the connection closes.
        let gone: EventLoopFuture<Void>
        var phase: Phase
        /// Bumped on every change of phase, so that a stale place in `evictable` is recognised.
        var generation: Int
    }

    private struct State {
        /// Open connections by serial number: an object's address is used again once it is freed, so
        /// a stale place in `evictable` could name a newer connection; a serial number never repeats.
        var entries: [UInt64: Entry] = [:]
        var serials: [ObjectIdentifier: UInt64] = [:]
        var nextSerial: UInt64 = 0
        /// Connections that may be closed to make room, oldest first; stale places are skipped when read.
        var evictable: [(id: UInt64, generation: Int)] = []
        var evictableStart = 0
        var counts = Counts()

        mutating func markEvictable(_ id: UInt64, generation: Int) {
            if evictableStart > 1_024, evictableStart * 2 > evictable.count {
                evictable.removeFirst(evictableStart)
                evictableStart = 0
            }
            evictable.append((id, generation))
        }

        /// The connection that has waited longest without a request in progress, taken out.
        mutating func takeOldestEvictable() -> (any Channel)? {
            while evictableStart < evictable.count {
                let (id, generation) = evictable[evictableStart]
                evictableStart += 1
                if let entry = entries[id], entry.generation == generation, entry.phase != .inRequest {
                    entries[id] = nil
                    serials[ObjectIdentifier(entry.channel)] = nil
                    return entry.channel
                }
            }
            return nil
        }
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) {
        precondition(limit > 0, "a connection cap needs at least one connection")
        self.limit = limit
    }

    var counts: Counts { state.withLock { $0.counts } }

    /// Registers a new connection; false when it must be closed (the cap is reached and no connection can make room).
    /// `gone` completes when the client closes its side of the connection or the connection closes.
    func open(_ channel: any Channel, gone: EventLoopFuture<Void>) -> Bool {
        let (admitted, evicted) = state.withLock { state -> (Bool, (any Channel)?) in
            var evicted: (any Channel)?
            if state.entries.count >= limit {
                evicted = state.takeOldestEvictable()
                guard evicted != nil else {
                    state.counts.refused += 1
                    return (false, nil)
                }
                state.counts.evicted += 1
            }
            state.counts.accepted += 1
            state.nextSerial += 1
            let id = state.nextSerial
            state.serials[ObjectIdentifier(channel)] = id
            state.entries[id] = Entry(channel: channel, gone: gone, phase: .waiting, generation: 0)
            state.markEvictable(id, generation: 0)
            state.counts.open = state.entries.count
            return (true, evicted)
        }
        evicted?.close(promise: nil)
        return admitted
    }

    /// Completed when the client of this connection has gone: it closed its side, or the connection closed.
    /// A response that writes only now and then (the live stream) stops then, rather than at its next write.
    func gone(_ channel: any Channel) -> EventLoopFuture<Void> {
        state.withLock { state in state.serials[ObjectIdentifier(channel)].flatMap { state.entries[$0]?.gone } } ?? channel.closeFuture
    }

    func update(_ channel: any Channel, to phase: Phase) {
        state.withLock { state in
            guard let id = state.serials[ObjectIdentifier(channel)], var entry = state.entries[id], entry.phase != phase else { return }
            entry.phase = phase
            entry.generation += 1
            state.entries[id] = entry
            if phase != .inRequest { state.markEvictable(id, generation: entry.generation) }
        }
    }

    func close(_ channel: any Channel) {
        state.withLock { state in
            if let id = state.serials.removeValue(forKey: ObjectIdentifier(channel)) { state.entries[id] = nil }
            state.counts.open = state.entries.count
        }
    }

    func count(_ counter: WritableKeyPath<Counts, Int>) {
        state.withLock { $0.counts[keyPath: counter] += 1 }
    }
}

/// HTTP/1.1 as Hummingbird serves it, with the connection guards in front: the cap, the header timeout and
/// the slow-reader timeout. The idle timeout is Hummingbird's own.
struct GuardedHTTP1Channel: HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
    let responder: HTTPChannelHandler.Responder
    let limits: ConnectionLimits
    let registry: ConnectionRegistry

    static func server(limits: ConnectionLimits, registry: ConnectionRegistry) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, limits: limits, registry: registry) }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let connection = GuardedConnection(channel: channel, limits: limits, registry: registry)
        let http = HTTP1Channel(
            responder: responder,
            configuration: .init(additionalChannelHandlers: [RequestPhaseHandler(connection: connection)], idleTimeout: .seconds(limits.idleTimeout)))
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionGuardHandler(connection: connection), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return http.setup(channel: channel, logger: logger)
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}

extension TimeAmount {
    static func seconds(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1e9)) }
}

/// One connection's guard state, shared by its two handlers; touched only on the channel's event loop.
final class GuardedConnection: @unchecked Sendable {
    let channel: any Channel
    let limits: ConnectionLimits
    let registry: ConnectionRegistry
    var phase = ConnectionRegistry.Phase.waiting
    var headerDeadline: Scheduled<Void>?
    var slowReaderDeadline: Scheduled<Void>?
    /// See ``ConnectionRegistry/gone(_:)``.
    let gone: EventLoopPromise<Void>
    private var hasGone = false
    /// Whether the current request's body has been read to its end.
    var requestComplete = true
    /// Answered before its body was read (e.g. 413): the rest of the request is read and dropped until
    /// the client is done, or sends nothing for ``lingerSeconds``, or ``longestLingerSeconds`` pass;
    /// then the connection closes.
    private(set) var lingering = false
    /// The first handler's context, from which reads are asked for while lingering.
    var front: ChannelHandlerContext?
    /// How long a lingering connection may stay silent before it is closed.
    static let lingerSeconds: Int64 = 5
    /// The longest the rest of an unread request is read and dropped, however steadily it comes.
    static let longestLingerSeconds: Int64 = 60
    private var lingerDeadline: Scheduled<Void>?
    private var lingerEnd = NIODeadline.now()

    init(channel: any Channel, limits: ConnectionLimits, registry: ConnectionRegistry) {
        self.channel = channel
        self.limits = limits
        self.registry = registry
        self.gone = channel.eventLoop.makePromise()
    }

    /// Closes a connection whose request was answered before its body was read: the answer has gone
    /// out, so the server stops writing (the client sees the end of the response) and reads and drops
    /// what the client still sends, so that a client writing a large body is not left hanging, then closes.
    func linger() {
        guard !lingering else { return }
        lingering = true
        lingerEnd = .now() + .seconds(Self.longestLingerSeconds)
        channel.close(mode: .output, promise: nil)
        front?.read()
        lingerDeadline = channel.eventLoop.scheduleTask(in: .seconds(Self.lingerSeconds)) { [channel] in channel.close(promise: nil) }
    }

    /// More of the unread request came while lingering: the silence allowed starts again, up to the longest linger.
    func lingeredRead() {
        guard lingering else { return }
        lingerDeadline?.cancel()
        let deadline = min(NIODeadline.now() + .seconds(Self.lingerSeconds), lingerEnd)
        lingerDeadline = channel.eventLoop.scheduleTask(deadline: deadline) { [channel] in channel.close(promise: nil) }
    }

    func clientWent() {
        guard !hasGone else { return }
        hasGone = true
        gone.succeed()
    }

    func enter(_ phase: ConnectionRegistry.Phase) {
        guard phase != self.phase else { return }
        self.phase = phase
        registry.update(channel, to: phase)
        if phase == .readingHead {
            headerDeadline = channel.eventLoop.scheduleTask(in: .seconds(limits.headerTimeout)) { [self] in
                guard self.phase == .readingHead else { return }
                registry.count(\.headerTimeouts)
                channel.close(promise: nil)
            }
        } else {
            headerDeadline?.cancel()
            headerDeadline = nil
        }
    }
}

/// First in the pipeline, on raw bytes: registers the connection (closing it at the cap), starts the
/// header timeout at a request's first byte, and closes a connection whose client stops reading.
final class ConnectionGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let connection: GuardedConnection
    private var registered = false

    init(connection: GuardedConnection) { self.connection = connection }

    func handlerAdded(context: ChannelHandlerContext) {
        connection.front = context
        if context.channel.isActive { register(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        register(context)
        context.fireChannelActive()
    }

    private func register(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        if !connection.registry.open(context.channel, gone: connection.gone.futureResult) { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.registry.close(context.channel)
        connection.headerDeadline?.cancel()
        connection.slowReaderDeadline?.cancel()
        connection.clientWent()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            connection.clientWent()
            if connection.lingering { context.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connection.front = nil
        connection.clientWent()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if connection.lingering {
            connection.lingeredRead()
            context.read()
            return
        }
        if connection.phase == .waiting { connection.enter(.readingHead) }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            connection.slowReaderDeadline?.cancel()
            connection.slowReaderDeadline = nil
        } else if connection.slowReaderDeadline == nil {
            let channel = context.channel, registry = connection.registry
            connection.slowReaderDeadline = context.eventLoop.scheduleTask(in: .seconds(connection.limits.slowReaderTimeout)) {
                guard !channel.isWritable else { return }
                registry.count(\.slowReaders)
                channel.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }
}

/// After the HTTP codec: a request's head marks the connection busy, the end of its response free again.
final class RequestPhaseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart
    private let connection: GuardedConnection

    init(connection: GuardedConnection) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            connection.enter(.inRequest)
            connection.requestComplete = false
        case .end: connection.requestComplete = true
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        guard connection.requestComplete else {
            // Answered before the request's body was read: the connection cannot carry another request.
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.whenSuccess { [connection] in connection.linger() }
            return context.write(data, promise: written)
        }
        connection.enter(.waiting)
        context.write(data, promise: promise)
    }
}
