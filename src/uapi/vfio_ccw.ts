// include/uapi/linux/vfio_ccw.h and the vfio-ccw parts of vfio.h.

// struct ccw_io_region (124 bytes, packed)
export const ORB_AREA_SIZE = 12;
export const SCSW_AREA_SIZE = 12;
export const IRB_AREA_SIZE = 96;
export const IO_ORB = 0;
export const IO_SCSW = 12;
export const IO_IRB = 24;
export const IO_RET_CODE = 120;
export const IO_REGION_SIZE = 124;

// struct ccw_cmd_region (8 bytes)
export const CMD_COMMAND = 0;
export const CMD_RET_CODE = 4;
export const CMD_REGION_SIZE = 8;
export const VFIO_CCW_ASYNC_CMD_HSCH = 1 << 0;
export const VFIO_CCW_ASYNC_CMD_CSCH = 1 << 1;

// struct ccw_schib_region (52 bytes): PMCW 28 @0, SCSW 12 @28, MBA 8 @40, MDA 4 @48
export const SCHIB_AREA_SIZE = 52;
export const SCHIB_PMCW = 0;
export const SCHIB_SCSW = 28;

// struct ccw_crw_region (8 bytes)
export const CRW_REGION_SIZE = 8;

export const VFIO_CCW_CONFIG_REGION_INDEX = 0;
export const VFIO_CCW_NUM_REGIONS = 1;
export const VFIO_CCW_IO_IRQ_INDEX = 0;
export const VFIO_CCW_CRW_IRQ_INDEX = 1;
export const VFIO_CCW_REQ_IRQ_INDEX = 2;

export const VFIO_REGION_TYPE_CCW = 2;
export const VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD = 1;
export const VFIO_REGION_SUBTYPE_CCW_SCHIB = 2;
export const VFIO_REGION_SUBTYPE_CCW_CRW = 3;
export const VFIO_REGION_INFO_CAP_TYPE = 2;

export const VFIO_DEVICE_FLAGS_RESET = 1 << 0;
export const VFIO_DEVICE_FLAGS_CCW = 1 << 4;
export const VFIO_REGION_INFO_FLAG_READ = 1 << 0;
export const VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
export const VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
export const VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;
export const VFIO_IRQ_INFO_EVENTFD = 1 << 0;

export const VFIO_IRQ_SET_DATA_NONE = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
export const VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;
export const VFIO_IRQ_SET_DATA_TYPE_MASK = 0x07;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;

// _IO(';', 100 + n)
export const VFIO_DEVICE_GET_INFO = 0x3b6b;
export const VFIO_DEVICE_GET_REGION_INFO = 0x3b6c;
export const VFIO_DEVICE_GET_IRQ_INFO = 0x3b6d;
export const VFIO_DEVICE_SET_IRQS = 0x3b6e;
export const VFIO_DEVICE_RESET = 0x3b6f;

export const VFIO_DEVICE_API_CCW_STRING = 'vfio-ccw';

/** Driver-private file-offset encoding (v5.2+). */
export const VFIO_CCW_OFFSET_SHIFT = 10;
export const VFIO_CCW_OFFSET_MASK = (1 << VFIO_CCW_OFFSET_SHIFT) - 1;
export const VFIO_CCW_OFFSET_TO_INDEX = (off: number): number => Math.floor(off / (1 << VFIO_CCW_OFFSET_SHIFT));
export const VFIO_CCW_INDEX_TO_OFFSET = (index: number): number => index * (1 << VFIO_CCW_OFFSET_SHIFT);

// ioctl argument minsz
export const DEVICE_INFO_MINSZ = 16;
export const REGION_INFO_MINSZ = 32;
export const CAP_TYPE_SIZE = 16;
export const IRQ_INFO_MINSZ = 16;
export const IRQ_SET_MINSZ = 20;
