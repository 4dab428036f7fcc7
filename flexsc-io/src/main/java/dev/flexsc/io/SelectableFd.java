package dev.flexsc.io;

import java.nio.channels.Channel;

/**
 * What {@link FlexscSelector} needs of a channel it selects on: every selectable channel of
 * {@link FlexscSelectorProvider} implements it.
 */
interface SelectableFd extends Channel {
    /**
     * The channel's descriptor. A registration holds a reference on it from registration until
     * the selector has removed the descriptor from its epoll set, so closing a registered
     * channel closes the descriptor only after that (a closed and reused number never stays
     * in the set).
     */
    ChannelFd channelFd();

    /** The poll(2) events ({@code POLLIN}, {@code POLLOUT}) that stand for interest set {@code ops}. */
    int translateInterestOps(int ops);

    /**
     * The ready set that poll(2) events {@code revents} mean for a key with interest set
     * {@code interestOps}, as the JDK's channels compute it: POLLERR or POLLHUP make every
     * interesting operation ready (it will fail or see the end at once, rather than block).
     */
    int translateReadyOps(int revents, int interestOps);
}
