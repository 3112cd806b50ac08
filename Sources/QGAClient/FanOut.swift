import Dispatch
import QGASystem

/// Runs one piece of work per target on a small pool of threads, with a bound on how many
/// run at once in each lane (a libvirt connection, the socket targets), and hands the
/// results back in the targets' order.
///
/// Blocking calls on threads are all the client layer needs: each target's conversation
/// is the same synchronous session as for one target, and libvirt's connections are
/// thread-safe, so targets of one connection share it.
public enum FanOut {
    /// Runs `work(i)` for every `i` in `lanes.indices`, at most `limit(lanes[i])` at once in
    /// each lane, and calls `deliver(i, result)` on the calling thread in index order, each
    /// as soon as it and every result before it are in. Returns once all are delivered.
    ///
    /// Threads are started per lane, as many as its limit allows and it has items; a lane
    /// whose threads cannot be started runs its items on the calling thread instead.
    public static func run<Result: Sendable>(
        lanes: [Int], limit: (Int) -> Int,
        work: @escaping @Sendable (Int) -> Result,
        deliver: (Int, Result) throws -> Void
    ) rethrows {
        let results = Slots<Result>(count: lanes.count)
        var byLane: [Int: [Int]] = [:]
        var laneOrder: [Int] = []
        for (index, lane) in lanes.enumerated() {
            if byLane[lane] == nil { laneOrder.append(lane) }
            byLane[lane, default: []].append(index)
        }
        for lane in laneOrder {
            let queue = WorkQueue(byLane[lane] ?? [])
            let threads = max(1, min(limit(lane), queue.count))
            let worker: @Sendable () -> Void = {
                while let index = queue.next() { results.set(index, work(index)) }
            }
            var started = 0
            for _ in 0..<threads {
                guard (try? startDetachedThread(worker)) != nil else { break }
                started += 1
            }
            if started == 0 { worker() }
        }
        for index in lanes.indices { try deliver(index, results.wait(index)) }
    }

    /// What several targets' exit codes make together: the first failing code in the
    /// targets' order (the one that target alone would have given), and how many failed.
    public static func summary(_ codes: [Int32]) -> (code: Int32, failed: Int) {
        (codes.first { $0 != 0 } ?? 0, codes.count { $0 != 0 })
    }
}

/// The indices of one lane, taken one at a time by its threads.
private final class WorkQueue: @unchecked Sendable {
    private let indices: [Int]
    private var position = 0
    private let lock = DispatchSemaphore(value: 1)
    var count: Int { indices.count }

    init(_ indices: [Int]) { self.indices = indices }

    func next() -> Int? {
        lock.wait()
        defer { lock.signal() }
        guard position < indices.count else { return nil }
        defer { position += 1 }
        return indices[position]
    }
}

/// One result slot per index, each with a semaphore the delivering thread waits on.
private final class Slots<Result: Sendable>: @unchecked Sendable {
    private var values: [Result?]
    private let ready: [DispatchSemaphore]
    private let lock = DispatchSemaphore(value: 1)

    init(count: Int) {
        values = Array(repeating: nil, count: count)
        ready = (0..<count).map { _ in DispatchSemaphore(value: 0) }
    }

    func set(_ index: Int, _ value: Result) {
        lock.wait()
        values[index] = value
        lock.signal()
        ready[index].signal()
    }

    /// Waits for the result at `index` and takes it out (each is delivered once).
    func wait(_ index: Int) -> Result {
        while true {
            ready[index].wait()
            // The slot is set before its semaphore is signalled, so the first pass finds it.
            if let value = take(index) { return value }
        }
    }

    private func take(_ index: Int) -> Result? {
        lock.wait()
        defer { lock.signal() }
        let value = values[index]
        values[index] = nil
        return value
    }
}
