import Dispatch
import Journal
import JournalStore
import Synchronization

/// How far writing a world has come, for progress displays.
public struct WorldProgress: Sendable {
    /// From 0 to 1.
    public var fraction: Double
    public var events: Int
    public var seconds: Double
}

extension WorldGenerator {
    /// Writes a world into an empty journal, each night in its own transaction recorded at that night.
    ///
    /// `makeStore` receives the manual clock the journal records with. Generating and validating the
    /// next night runs on another thread while the current night is written.
    ///
    /// ```swift
    /// let writer = try JournalDatabase.open(path: "world.sqlite")
    /// let summary = try WorldGenerator.write(WorldConfiguration(customers: 500)) { clock in
    ///     try EventStore(writer: writer, clock: clock)
    /// }
    /// ```
    ///
    /// - Parameter progress: called after each night that was written.
    /// - Throws: ``JournalError/invalidArgument(_:)`` for a bad configuration or a journal that already holds events;
    ///   any error of the store.
    @discardableResult
    public static func write(
        _ configuration: WorldConfiguration, using makeStore: (JournalClock) throws -> EventStore,
        progress: ((WorldProgress) -> Void)? = nil
    ) throws -> WorldSummary {
        let world = try WorldGenerator(configuration)
        let (clock, setTime) = JournalClock.manual(Timestamp(microseconds: 0))
        let store = try makeStore(clock)
        let existing = try store.head()
        guard existing == 0 else {
            throw JournalError.invalidArgument(
                "the journal already holds \(existing) events; the demo writes a new journal. Pass --db with a new file.")
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let pipe = NightPipe(capacity: 3)
        let producer = DispatchQueue(label: "world.generate")
        producer.async {
            var world = world
            while let night = world.nextNight() {
                let prepared = Result { () throws(JournalError) -> [PreparedBatch] in try store.prepare(night.batches) }
                guard pipe.put(.night(night.index, night.recordedAt, night.eventCount, prepared, world.progress)) else { return }
                if case .failure = prepared { return }
            }
            _ = pipe.put(.end(world.summary))
        }
        var events = 0
        while true {
            switch pipe.take() {
            case .night(_, let recordedAt, let count, let prepared, let fraction):
                do {
                    setTime(recordedAt)
                    _ = try store.write(try prepared.get())
                } catch {
                    pipe.close()
                    throw error
                }
                events += count
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                progress?(WorldProgress(fraction: fraction, events: events, seconds: seconds))
            case .end(let summary):
                return summary
            }
        }
    }
}

/// A bounded hand-over of prepared nights from the generating thread to the writing one.
private final class NightPipe: Sendable {
    enum Item: Sendable {
        case night(Int, Timestamp, Int, Result<[PreparedBatch], JournalError>, Double)
        case end(WorldSummary)
    }

    private struct State {
        var items: [Item] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let free: DispatchSemaphore
    private let filled = DispatchSemaphore(value: 0)

    init(capacity: Int) {
        free = DispatchSemaphore(value: capacity)
    }

    /// Waits for room and hands over `item`; false when the reader has stopped.
    func put(_ item: Item) -> Bool {
        free.wait()
        let open = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.items.append(item)
            return true
        }
        if open { filled.signal() }
        return open
    }

    func take() -> Item {
        filled.wait()
        let item = state.withLock { $0.items.removeFirst() }
        free.signal()
        return item
    }

    /// Stops the writer side: later puts are refused, and a producer waiting for room is released.
    func close() {
        state.withLock { $0.closed = true }
        free.signal()
    }
}
