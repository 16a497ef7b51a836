/* PackOS ABI: error codes. Kernel calls return 0 or -PK_Exxx.
 *
 * One list, so names, numbers and messages never drift. Append only; never renumber. The
 * last column says what the kernel does with a kernel call that ends in this error: RETURN
 * it to the caller (a condition a correct program can meet and handle), or FAULT the
 * caller (a misuse of the ABI that only a buggy or hostile program commits). */
#ifndef PACKOS_ERRORS_H
#define PACKOS_ERRORS_H

#define PK_ERROR_LIST(X)                                                          \
	X(1, ENOSYS, "no such kernel call", RETURN)                               \
	X(2, EBADHANDLE, "unknown or stale handle", FAULT)                        \
	X(3, ENOTOWNER, "object belongs to someone else", FAULT)                  \
	X(4, EWOULDBLOCK, "nothing to receive yet", RETURN)                       \
	X(5, ENOMEM, "frame pool exhausted", RETURN)                              \
	X(6, EQUOTA, "process frame quota reached", RETURN)                       \
	X(7, EINVAL, "invalid argument", RETURN)                                  \
	X(8, ENOTIPV6, "packet is not IPv6", RETURN)                              \
	X(9, ELENGTH, "packet length does not match its header", RETURN)          \
	X(10, ESOURCE, "source address is not the sender's", RETURN)              \
	X(11, EHOSTUNREACH, "no endpoint has that KAN address", RETURN)           \
	X(12, ENETUNREACH, "no route to destination", RETURN)                     \
	X(13, ENOBUFS, "destination receive queue is full", RETURN)               \
	X(14, EADDRINUSE, "address already bound", RETURN)                        \
	X(15, ELIMIT, "per-process limit reached", RETURN)                        \
	X(16, ENOSPC, "kernel table full", RETURN)                                \
	X(17, EPERM, "right missing", RETURN)                                     \
	X(18, ENOTSUP, "not supported by this kernel", RETURN)                    \
	X(19, ECANCELED, "not run: an earlier linked call failed", RETURN)        \
	X(20, ETIMEDOUT, "nothing arrived before the deadline", RETURN)           \
	X(21, EBUSY, "interrupt line already attached", RETURN)                   \
	X(22, ENOTPENDING, "no interrupt waiting for an acknowledgement", RETURN) \
	X(23, ESHARED, "frame is shared read-only", RETURN)                       \
	X(24, EALREADY, "already joined, subscribed or bound", RETURN)            \
	X(25, ENOTMEMBER, "not joined, subscribed or bound", RETURN)              \
	X(26, ECLOSED, "closed: nothing more will come", RETURN)                  \
	X(27, ECONNREFUSED, "refused: nothing listens at that port", RETURN)      \
	X(28, ECONNRESET, "connection reset by the peer", RETURN)                 \
	X(29, ENOTCONN, "not connected", RETURN)

enum pk_error {
#define PK__ERROR_ENUM(num, name, msg, disposition) PK_##name = num,
	PK_ERROR_LIST(PK__ERROR_ENUM)
#undef PK__ERROR_ENUM
		PK_ERROR_END
};

#endif
