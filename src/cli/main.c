/* main.c — the clickseg command: `clickseg COMMAND [options]`.
 *
 * Initialises MPI (and silences HDF5's own error printing: errors are
 * reported once, by rank 0), dispatches to the subcommand, finalises. */
#include <hdf5.h>
#include <malloc.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clickseg/checkpoint.h"
#include "clickseg/h5util.h"

static const struct {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} commands[] = {
    {"run", cmd_run, "sessionize and segment an archive, write the segment report"},
    {"import", cmd_import, "read clickstream exports (rees46, otto, ga, csv, ...) into an archive"},
    {"generate", cmd_generate, "make a synthetic archive with planted session intents"},
    {"inspect", cmd_inspect, "validate an archive and summarise it before a long job"},
    {"report", cmd_report, "re-render report.html from a finished run and print a summary"},
    {"merge", cmd_merge, "combine the reports of runs over disjoint periods into one"},
    {"config", cmd_config, "list configuration keys, or check and print a config file"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out,
            "usage: clickseg COMMAND [options]      (under MPI: mpirun -n N clickseg ...)\n\n"
            "Customer segments from e-commerce clickstream archives (HDF5, format v1).\n\n"
            "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`clickseg COMMAND --help` describes each command (`clickseg help` prints this);\n"
                 "`clickseg --version` prints the version and the archive format it reads.\n"
                 "Exit status: 0 ok, 2 usage, 3 config, 4 input data, 5 I/O or output exists,\n"
                 "6 out of memory, 7 stopped by a signal, 1 internal error.\n");
}

/* A file whose close failed (a full disk: the close's own metadata writes
 * found no room) stays in HDF5's table half torn down, and HDF5 closes
 * every file left open again from MPI_Finalize: 1.10.8 then crashes each
 * rank holding one (SIGSEGV in H5F__close_cb). The command has failed and
 * said why, so when any rank holds such a file every rank leaves with the
 * failure's status before MPI_Finalize (all of them: a rank left inside
 * MPI_Finalize's fence would wait for the others). */
static void leave_if_file_left_open(const cs_comm *c, int status)
{
    int mine[2] = {status != 0 && H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE) > 0, status},
        all[2] = {0, 0};
    if (MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, c->comm) != MPI_SUCCESS || !all[0])
        return;
    fflush(stdout);
    fflush(stderr);
    _exit(status ? status : all[1]);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("clickseg 0.1.0 (archive format v1)\n");
        return 0;
    }
    cli_cmd_fn fn = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            fn = commands[i].fn;
    if (!fn) {
        fprintf(stderr, "clickseg: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return 2;
    }
    /* Keep freed memory in the process: on these VMs first touch of a fresh
     * page costs ~10 us, and per-window scratch (sort buckets, id lists) would
     * otherwise go back to the kernel and fault in again every window. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    /* `run` stops cleanly on SIGUSR1/SIGTERM (a checkpoint, exit 7): caught
     * from here, so one that arrives during start-up or the plan is not
     * the default action, which killed the rank and left mpirun waiting. */
    if (fn == cmd_run)
        ckpt_catch_signals();
    /* Open MPI's OMPIO asks its `lockedfile` shared-file-pointer component
     * about every MPI_File_open, and that probe prints the file's path and
     * ".locktest.RANK" into 256 bytes (sharedfp_lockedfile.c, 4.1): a
     * parallel HDF5 file whose path passes about 244 bytes aborted every
     * rank in glibc's overflow check. clickseg moves no shared file pointer,
     * so the component is left out, unless the user chose components. */
    setenv("OMPI_MCA_sharedfp", "^lockedfile", 0);
    MPI_Init(&argc, &argv);
    h5_silence();
    cs_comm c;
    comm_world(&c);
    int status = fn(&c, argc - 1, argv + 1);
    leave_if_file_left_open(&c, status);
    MPI_Finalize();
    return status;
}
