import QGASystem
import SystemPackage
import Testing

/// QGASystem's event loop, which qgad's server runs on: descriptors and timers with
/// handlers, changed from inside handlers. Pipes and deadlines only: nothing sleeps.
@Suite struct EventLoopTests {
    /// Records what the loop called, in order.
    private final class Calls {
        var names: [String] = []
    }

    @Test func aReadablePipeCallsItsHandlerAndAnEmptyOneDoesNot() throws {
        let (reader, writer) = try nonBlockingPipe()
        defer { try? reader.close(); try? writer.close() }
        let loop = EventLoop()
        let calls = Calls()
        loop.add(reader, interest: .input) { events in
            calls.names.append(events.isReadable ? "readable" : "other")
        }
        try loop.runOnce(deadline: .after(.zero))
        #expect(calls.names.isEmpty)
        try writer.writeFully([1])
        try loop.runOnce(deadline: .after(.seconds(10)))
        #expect(calls.names == ["readable"])
    }

    @Test func aClosedWriterIsAHangUp() throws {
        let (reader, writer) = try nonBlockingPipe()
        defer { try? reader.close() }
        let loop = EventLoop()
        var hungUp = false
        loop.add(reader, interest: .input) { hungUp = $0.isHangUp }
        try writer.close()
        try loop.runOnce(deadline: .after(.seconds(10)))
        #expect(hungUp)
    }

    @Test func outputInterestAndPausing() throws {
        let (reader, writer) = try nonBlockingPipe()
        defer { try? reader.close(); try? writer.close() }
        let loop = EventLoop()
        var writable = 0
        let source = loop.add(writer, interest: .output) { if $0.isWritable { writable += 1 } }
        try loop.runOnce(deadline: .after(.seconds(10)))
        #expect(writable == 1)
        // Paused: registered, never polled, so the pass only waits out its deadline.
        loop.setInterest(source, .paused)
        try loop.runOnce(deadline: .after(.milliseconds(1)))
        #expect(writable == 1)
        #expect(loop.sourceCount == 1)
        loop.setInterest(source, .output)
        try loop.runOnce(deadline: .after(.seconds(10)))
        #expect(writable == 2)
    }

    @Test func timersFireInDeadlineOrderAndACancelledOneNever() throws {
        let loop = EventLoop()
        let calls = Calls()
        let start = ContinuousClock.now
        loop.schedule(at: .after(.milliseconds(30))) {
            calls.names.append("second")
            loop.stop()
        }
        let cancelled = loop.schedule(at: .after(.milliseconds(5))) { calls.names.append("cancelled") }
        loop.schedule(at: .after(.milliseconds(10))) { calls.names.append("first") }
        loop.cancel(cancelled)
        try loop.run()
        #expect(calls.names == ["first", "second"])
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        #expect(loop.timerCount == 0)
    }

    @Test func aSourceRemovedByAnEarlierHandlerIsNotCalledInThatPass() throws {
        let pipes = try ReadyPipes(count: 2)
        defer { pipes.close() }
        let (readerA, readerB) = (pipes.readers[0], pipes.readers[1])
        let loop = EventLoop()
        let calls = Calls()
        var sourceB: EventLoop.Source?
        var sourceA: EventLoop.Source?
        sourceA = loop.add(readerA, interest: .input) { _ in
            calls.names.append("A")
            // Itself and the other one, both ready in this pass.
            if let sourceA { loop.remove(sourceA) }
            if let sourceB { loop.remove(sourceB) }
        }
        sourceB = loop.add(readerB, interest: .input) { _ in calls.names.append("B") }
        try loop.runOnce(deadline: .after(.seconds(10)))
        #expect(calls.names == ["A"])
        #expect(loop.sourceCount == 0)
        // Both pipes are still readable, but nothing watches them: the pass times out.
        try loop.runOnce(deadline: .after(.milliseconds(1)))
        #expect(calls.names == ["A"])
    }

    @Test func aSourceAddedByAHandlerIsPolledFromTheNextPass() throws {
        let pipes = try ReadyPipes(count: 2)
        defer { pipes.close() }
        let (readerA, readerB) = (pipes.readers[0], pipes.readers[1])
        let loop = EventLoop()
        let calls = Calls()
        var added = false
        loop.add(readerA, interest: .input) { _ in
            calls.names.append("A")
            guard !added else { return }
            added = true
            loop.add(readerB, interest: .input) { _ in calls.names.append("B") }
        }
        try loop.runOnce(deadline: .after(.seconds(10)))
        #expect(calls.names == ["A"])
        try loop.runOnce(deadline: .after(.seconds(10)))
        #expect(calls.names == ["A", "A", "B"])
    }

    @Test func stopEndsThePassAndRunReturns() throws {
        let pipes = try ReadyPipes(count: 2)
        defer { pipes.close() }
        let (readerA, readerB) = (pipes.readers[0], pipes.readers[1])
        let loop = EventLoop()
        let calls = Calls()
        var prepared = 0
        loop.add(readerA, interest: .input) { _ in
            calls.names.append("A")
            loop.stop()
        }
        loop.add(readerB, interest: .input) { _ in calls.names.append("B") }
        try loop.run { prepared += 1 }
        #expect(calls.names == ["A"])
        #expect(prepared == 1)
    }

    @Test func aTimerCanReplaceADescriptor() throws {
        // The shape of qgad's absent-host pause: a source paused, and resumed by a timer.
        let (reader, writer) = try nonBlockingPipe()
        defer { try? reader.close(); try? writer.close() }
        try writer.writeFully([1])
        let loop = EventLoop()
        let calls = Calls()
        var source: EventLoop.Source?
        source = loop.add(reader, interest: .input) { _ in
            calls.names.append("read")
            if calls.names.filter({ $0 == "read" }).count == 3 {
                loop.stop()
                return
            }
            guard let source else { return }
            loop.setInterest(source, .paused)
            loop.schedule(at: .after(.milliseconds(5))) {
                calls.names.append("resume")
                loop.setInterest(source, .input)
            }
        }
        try loop.run()
        #expect(calls.names == ["read", "resume", "read", "resume", "read"])
    }

    @Test func nothingToWaitForReturnsAtOnce() throws {
        let loop = EventLoop()
        try loop.runOnce()
        #expect(loop.sourceCount == 0 && loop.timerCount == 0)
    }
}
