//go:build ignore

/* rlimit_share: resource limits are per process: a forked child's setrlimit
 * leaves its parent's alone, a thread's applies to the whole process. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>
static void *t(void*a){ struct rlimit r={100,200}; setrlimit(RLIMIT_NOFILE,&r); return 0;}
int main(){ struct rlimit r; pid_t c=fork(); if(!c){ r.rlim_cur=50; r.rlim_max=60; setrlimit(RLIMIT_NOFILE,&r); _exit(0);} waitpid(c,0,0); getrlimit(RLIMIT_NOFILE,&r); printf("parent after child's setrlimit: %s\n", r.rlim_cur==50?"changed":"kept");
pthread_t x; pthread_create(&x,0,t,0); pthread_join(x,0); getrlimit(RLIMIT_NOFILE,&r); printf("after a thread's setrlimit: cur %lu max %lu\n", r.rlim_cur, r.rlim_max); return 0;}
