/*
 * The plain run of a JSON string (Workbench's JSONDecoderToLua): where the bytes that need
 * no work end. Strings are most of a trainer's request (`moonlab serve`) and of JSONL data.
 */
#ifndef MLSHIM_JSONSCAN_H
#define MLSHIM_JSONSCAN_H

/* The first byte in [p, end) that is '"', '\\' or a control character (< 0x20), or end
   when there is none: 16 bytes at a time with SSE2 (x86-64), else one at a time. */
const unsigned char *mlshim_json_plain_end(const unsigned char *p, const unsigned char *end);

#endif
