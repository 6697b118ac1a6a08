//go:build ignore

/* setsid: the first process is in the group and session it was started in,
 * as natively: not a group leader when its starter is not one, so setsid
 * (as daemons and the setsid tool call it) succeeds. */
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
int main(){ printf("leader %s sid==pid %s\n", getpgrp()==getpid()?"yes":"no", getsid(0)==getpid()?"yes":"no"); pid_t r=setsid(); printf("setsid %s\n", r<0?strerror(errno):(r==getpid()?"ok":"?")); printf("after: leader %s sid==pid %s\n", getpgrp()==getpid()?"yes":"no", getsid(0)==getpid()?"yes":"no"); return 0;}
