//go:build ignore

/* bench_net.c - socket costs, for docs/ARCHITECTURE.md: a one-byte round trip
 * over a unix socketpair between two processes (5000 times) and 256 MiB
 * over TCP on 127.0.0.1 (1 MiB sends). Run natively and under kshim. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(void){
  int sv[2]; socketpair(AF_UNIX,SOCK_STREAM,0,sv);
  int N=5000; char b[64];
  pid_t c=fork();
  if(!c){ for(int i=0;i<N;i++){ if(read(sv[1],b,1)!=1)_exit(1); write(sv[1],b,1);} _exit(0);}
  double t=now();
  for(int i=0;i<N;i++){ write(sv[0],"x",1); read(sv[0],b,1);} 
  double rt=(now()-t)/N*1e6; waitpid(c,0,0);
  printf("unix socketpair round trip: %.1f us\n", rt);
  int s=socket(AF_INET,SOCK_STREAM,0); struct sockaddr_in a={.sin_family=AF_INET,.sin_addr.s_addr=htonl(INADDR_LOOPBACK)}; socklen_t l=sizeof a;
  bind(s,(void*)&a,l); listen(s,1); getsockname(s,(void*)&a,&l);
  c=fork();
  if(!c){ int k=socket(AF_INET,SOCK_STREAM,0); connect(k,(void*)&a,l); static char big[1<<20]; for(int i=0;i<256;i++) send(k,big,sizeof big,0); close(k); _exit(0);}
  int k=accept(s,0,0); static char rb[1<<20]; long tot=0; ssize_t n; t=now();
  while((n=recv(k,rb,sizeof rb,0))>0) tot+=n;
  double el=now()-t; waitpid(c,0,0);
  printf("tcp loopback: %ld MiB in %.2f s = %.0f MiB/s\n", tot>>20, el, (tot>>20)/el);
  return 0;
}
