import Glibc

/// A joinable POSIX thread running one closure (no Foundation needed).
final class LoopThread: @unchecked Sendable {
    private var thread = pthread_t()
    private var started = false

    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Starts `body` on a new thread.
    func start(_ body: @escaping () -> Void) throws(SystemError) {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        let result = pthread_create(&thread, nil, { argument in
            let body = Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue()
            body.run()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw SystemError("pthread_create", errno: result)
        }
        started = true
    }

    /// Waits for the thread to finish.
    func join() {
        guard started else { return }
        pthread_join(thread, nil)
        started = false
    }
}
