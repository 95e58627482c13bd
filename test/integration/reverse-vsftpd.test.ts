import { defineReverseFtpSuite } from './reverse-ftp.suite.js';

defineReverseFtpSuite('vsftpd');
