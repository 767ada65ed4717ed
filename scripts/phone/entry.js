module.exports = require('jssip');
